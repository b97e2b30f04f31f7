internal import CLibvirt

extension Connection {
    /// Every domain, running or defined. One libvirt call.
    public func allDomains() throws -> [Domain] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check("virConnectListAllDomains", virConnectListAllDomains(pointer, &list, 0))
        defer { free(list) }
        return (0..<Int(count)).compactMap { i in list?[i].map(Domain.init) }
    }

    /// The domain with this UUID (dashed or not).
    /// - Throws: `LibvirtError` of kind `.notFound` when there is none.
    public func domain(uuid: String) throws -> Domain {
        guard let d = virDomainLookupByUUIDString(pointer, uuid) else {
            throw LibvirtError.last("virDomainLookupByUUIDString")
        }
        return Domain(d)
    }

    /// The domain with this name.
    /// - Throws: `LibvirtError` of kind `.notFound` when there is none.
    public func domain(name: String) throws -> Domain {
        guard let d = virDomainLookupByName(pointer, name) else { throw LibvirtError.last("virDomainLookupByName") }
        return Domain(d)
    }

    /// Defines (or redefines) a persistent domain from XML, validated against libvirt's schema.
    public func defineDomain(xml: String, validate: Bool = true) throws -> Domain {
        if validate, let d = virDomainDefineXMLFlags(pointer, xml, VIR_DOMAIN_DEFINE_VALIDATE.rawValue) {
            return Domain(d)
        } else if validate {
            let error = LibvirtError.last("virDomainDefineXMLFlags")
            guard error.kind == .unsupported else { throw error }
        }
        guard let d = virDomainDefineXML(pointer, xml) else { throw LibvirtError.last("virDomainDefineXML") }
        return Domain(d)
    }
}
