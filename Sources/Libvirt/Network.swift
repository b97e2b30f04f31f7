internal import CLibvirt

/// A libvirt virtual network. Every method blocks.
public final class Network: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { virNetworkFree(pointer) }

    /// The network's name.
    public var name: String { virNetworkGetName(pointer).map { String(cString: $0) } ?? "" }

    /// The network's UUID in dashed form.
    public var uuid: String {
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        guard virNetworkGetUUIDString(pointer, &buffer) == 0 else { virResetLastError(); return "" }
        return String(cString: buffer)
    }

    /// The network's XML definition.
    public func xml(inactive: Bool = false) throws -> String {
        try takeString("virNetworkGetXMLDesc",
                       virNetworkGetXMLDesc(pointer, inactive ? VIR_NETWORK_XML_INACTIVE.rawValue : 0))
    }

    /// Whether the network is active.
    public func isActive() throws -> Bool {
        try check("virNetworkIsActive", virNetworkIsActive(pointer)) == 1
    }

    /// The bridge device the network uses, when it has one.
    public func bridgeName() throws -> String {
        try takeString("virNetworkGetBridgeName", virNetworkGetBridgeName(pointer))
    }

    /// Starts the network.
    public func start() throws { try check("virNetworkCreate", virNetworkCreate(pointer)) }
    /// Stops the network.
    public func destroy() throws { try check("virNetworkDestroy", virNetworkDestroy(pointer)) }
    /// Removes the network's persistent definition.
    public func undefine() throws { try check("virNetworkUndefine", virNetworkUndefine(pointer)) }

    /// Sets whether the network starts with the host.
    public func setAutostart(_ enabled: Bool) throws {
        try check("virNetworkSetAutostart", virNetworkSetAutostart(pointer, enabled ? 1 : 0))
    }

    /// Adds, changes or removes one part of the definition (e.g. a DHCP host entry), live and persistent.
    public func update(command: NetworkUpdateCommand, section: NetworkSection, xml: String,
                       parentIndex: Int32 = -1) throws {
        var flags = VIR_NETWORK_UPDATE_AFFECT_CONFIG.rawValue
        if (try? isActive()) == true { flags |= VIR_NETWORK_UPDATE_AFFECT_LIVE.rawValue }
        try check("virNetworkUpdate", virNetworkUpdate(pointer, command.rawValue, section.rawValue,
                                                       parentIndex, xml, flags))
    }

    /// The DHCP leases currently handed out on this network.
    public func dhcpLeases() throws -> [DHCPLease] {
        var leases: UnsafeMutablePointer<virNetworkDHCPLeasePtr?>?
        let count = try check("virNetworkGetDHCPLeases", virNetworkGetDHCPLeases(pointer, nil, &leases, 0))
        defer {
            for i in 0..<Int(count) { virNetworkDHCPLeaseFree(leases?[i]) }
            free(leases)
        }
        return (0..<Int(count)).compactMap { i in
            guard let lease = leases?[i]?.pointee else { return nil }
            return DHCPLease(mac: lease.mac.map { String(cString: $0) } ?? "",
                             address: lease.ipaddr.map { String(cString: $0) } ?? "",
                             prefix: Int(lease.prefix),
                             hostname: lease.hostname.map { String(cString: $0) })
        }
    }
}

/// One DHCP lease of a network.
public struct DHCPLease: Sendable, Equatable {
    public var mac: String
    public var address: String
    public var prefix: Int
    public var hostname: String?
}

/// What `Network.update` does.
public enum NetworkUpdateCommand: UInt32, Sendable {
    case modify = 1, delete = 2, addLast = 3, addFirst = 4
}

/// Which part of a network definition `Network.update` touches.
public enum NetworkSection: UInt32, Sendable {
    case bridge = 1, domain, ip, ipDHCPHost, ipDHCPRange, forward, forwardInterface, forwardPF, portGroup,
         dnsHost, dnsTXT, dnsSRV
}

extension Connection {
    /// Every network, active or not.
    public func allNetworks() throws -> [Network] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check("virConnectListAllNetworks", virConnectListAllNetworks(pointer, &list, 0))
        defer { free(list) }
        return (0..<Int(count)).compactMap { i in list?[i].map(Network.init) }
    }

    /// The network with this name.
    public func network(name: String) throws -> Network {
        guard let n = virNetworkLookupByName(pointer, name) else { throw LibvirtError.last("virNetworkLookupByName") }
        return Network(n)
    }

    /// Defines a persistent network from XML.
    public func defineNetwork(xml: String) throws -> Network {
        guard let n = virNetworkDefineXML(pointer, xml) else { throw LibvirtError.last("virNetworkDefineXML") }
        return Network(n)
    }
}
