import Foundation
import GuesthouseCore
import Libvirt

/// Network interfaces, identified by MAC. A rate limit is set as libvirt's `<bandwidth>` (KiB/s,
/// inbound and outbound); the exact bytes/s asked for are kept in the domain's metadata so that
/// what an update sets reads back exactly.
extension LibvirtHypervisor: GuestInterfaces {
    static let ratesNamespace = "http://guesthouse.dev/schema/1/nic-rates"

    public func interfaces(guestID: String) async throws -> [GuestNIC] {
        try await withConnection("interface list") { conn in
            try Self.nics(Self.lookup(conn, id: guestID))
        }
    }

    public func interface(guestID: String, mac: String) async throws -> GuestNIC {
        let mac = try Self.normalizedMAC(mac)
        return try await withConnection("interface info") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            return try Self.findNIC(mac, in: Self.nics(domain), guest: domain.name)
        }
    }

    public func createInterface(guestID: String, network: String, mac: String?) async throws -> GuestNIC {
        try Validation.name(network, field: "network")
        let mac = try mac.map(Self.normalizedMAC) ?? Self.randomMAC()
        return try await withConnection("interface create") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            do {
                _ = try conn.network(name: network)
            } catch let error as LibvirtError where error.kind == .notFound {
                throw GuesthouseError.notFound("network '\(network)' not found")
            }
            let current = try Self.nics(domain)
            if current.contains(where: { $0.mac == mac }) {
                throw GuesthouseError.conflict("guest '\(domain.name)' already has an interface \(mac)")
            }
            let model = current.first?.model ?? "virtio"
            let xml = "<interface type='network'><mac address='\(mac)'/><source network='\(xmlEscape(network))'/>"
                + "<model type='\(xmlEscape(model))'/></interface>"
            if try domain.isActive() {
                try domain.attachDevice(xml)
            } else {
                let element = try XMLTree.parse(xml)
                try Self.redefine(conn, domain) { tree in Self.editDevices(tree) { $0 + [element] } }
            }
            return try Self.findNIC(mac, in: Self.nics(Self.lookup(conn, id: domain.uuid)), guest: domain.name)
        }
    }

    public func updateInterface(guestID: String, mac: String, _ update: NICUpdate) async throws -> GuestNIC {
        if let network = update.network { try Validation.name(network, field: "network") }
        if case .some(.some(let rate)) = update.rateLimitBytes {
            try Validation.range(rate, 1...Int(Int32.max), field: "ratelimit")
        }
        let mac = try Self.normalizedMAC(mac)
        let uri = self.uri
        return try await withConnection("interface update") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            if let network = update.network {
                do {
                    _ = try conn.network(name: network)
                } catch let error as LibvirtError where error.kind == .notFound {
                    throw GuesthouseError.notFound("network '\(network)' not found")
                }
            }
            let change = { (element: XMLTree) -> XMLTree in Self.apply(update, to: element) }
            if try domain.isActive() {
                let element = try Self.interfaceElement(XMLTree.parse(domain.xml()), mac: mac, guest: domain.name)
                try domain.updateDevice(change(element).rendered())
            } else {
                _ = try Self.interfaceElement(Self.inactiveTree(domain), mac: mac, guest: domain.name)
                try Self.redefine(conn, domain) { tree in
                    Self.editDevices(tree) { devices in
                        devices.map { Self.isInterface($0, mac: mac) ? change($0) : $0 }
                    }
                }
            }
            let fresh = try Self.lookup(conn, id: domain.uuid)
            if let rate = update.rateLimitBytes {
                try locks.domains.withLock(uri + "#" + fresh.uuid) {
                    var rates = try Self.exactRates(fresh)
                    rates[mac] = rate
                    let xml = "<rates>" + rates.sorted { $0.key < $1.key }
                        .map { "<nic mac='\($0.key)' bytes='\($0.value)'/>" }.joined() + "</rates>"
                    try fresh.setMetadata(rates.isEmpty ? nil : xml, key: "ghnic", namespace: Self.ratesNamespace)
                }
            }
            return try Self.findNIC(mac, in: Self.nics(fresh), guest: domain.name)
        }
    }

    public func deleteInterface(guestID: String, mac: String) async throws {
        let mac = try Self.normalizedMAC(mac)
        try await withConnection("interface delete") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            if try domain.isActive() {
                let element = try Self.interfaceElement(XMLTree.parse(domain.xml()), mac: mac, guest: domain.name)
                try domain.detachDevice(element.rendered())
            } else {
                _ = try Self.interfaceElement(Self.inactiveTree(domain), mac: mac, guest: domain.name)
                try Self.redefine(conn, domain) { tree in
                    Self.editDevices(tree) { $0.filter { !Self.isInterface($0, mac: mac) } }
                }
            }
        }
    }

    static func apply(_ update: NICUpdate, to element: XMLTree) -> XMLTree {
        var element = element
        if let network = update.network {
            element = element.setting("type", "network")
                .replacingChild("source", with: XMLTree(name: "source", attributes: ["network": network]))
        }
        if let up = update.linkUp {
            element = element.replacingChild("link", with: XMLTree(name: "link", attributes: ["state": up ? "up" : "down"]))
        }
        if let rate = update.rateLimitBytes {
            if let rate {
                let kib = String((rate + 1023) / 1024)
                let bandwidth = XMLTree(name: "bandwidth", children: [
                    XMLTree(name: "inbound", attributes: ["average": kib]),
                    XMLTree(name: "outbound", attributes: ["average": kib]),
                ])
                element = element.replacingChild("bandwidth", with: bandwidth)
            } else {
                element = element.replacingChild("bandwidth", with: nil)
            }
        }
        return element
    }

    static func isInterface(_ element: XMLTree, mac: String) -> Bool {
        element.name == "interface" && element.child("mac")?["address"]?.lowercased() == mac
    }

    static func interfaceElement(_ tree: XMLTree, mac: String, guest: String) throws -> XMLTree {
        guard let element = tree.child("devices")?.children("interface").first(where: { isInterface($0, mac: mac) }) else {
            throw GuesthouseError.notFound("guest '\(guest)' has no interface \(mac)")
        }
        return element
    }

    static func exactRates(_ domain: Domain) throws -> [String: Int] {
        guard let xml = try domain.metadata(namespace: ratesNamespace) else { return [:] }
        var rates: [String: Int] = [:]
        for nic in try XMLTree.parse(xml).children where nic.name.hasSuffix("nic") {
            if let mac = nic["mac"], let bytes = nic["bytes"].flatMap({ Int($0) }) { rates[mac] = bytes }
        }
        return rates
    }

    static func nics(_ domain: Domain) throws -> [GuestNIC] {
        let definition = try DomainDefinition(xml: domain.xml())
        let rates = (try? exactRates(domain)) ?? [:]
        return definition.interfaces.enumerated().map { index, nic in
            var rate: Int? = nil
            if let kib = nic.outboundAverageKiB ?? nic.inboundAverageKiB {
                if let exact = rates[nic.mac], (exact + 1023) / 1024 == kib { rate = exact } else { rate = kib * 1024 }
            }
            return GuestNIC(mac: nic.mac, number: index, network: nic.network ?? nic.bridge, linkUp: nic.linkUp,
                            rateLimitBytes: rate, model: nic.model)
        }
    }

    static func findNIC(_ mac: String, in nics: [GuestNIC], guest: String) throws -> GuestNIC {
        let wanted = (try? normalizedMAC(mac)) ?? mac.lowercased()
        if let nic = nics.first(where: { $0.mac == wanted }) ?? nics.first(where: { String($0.number) == mac }) {
            return nic
        }
        throw GuesthouseError.notFound("guest '\(guest)' has no interface \(mac)")
    }

    /// A MAC in lower case with colons; accepts '-' separators. Throws `invalidArguments` otherwise.
    static func normalizedMAC(_ text: String) throws -> String {
        let parts = text.lowercased().split(whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isHexDigit) }) else {
            throw GuesthouseError.invalid("'\(text)' is not a MAC address")
        }
        return parts.joined(separator: ":")
    }

    static func randomMAC() -> String {
        "52:54:00:" + (0..<3).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined(separator: ":")
    }
}
