import Foundation
import GuesthouseCore
import Libvirt

/// Network interfaces, identified by MAC. A rate limit is set as libvirt's `<bandwidth>` (KiB/s,
/// inbound and outbound); the exact bytes/s asked for are kept in the domain's metadata so that
/// what an update sets reads back exactly, one metadata element per NIC. Adding, changing and
/// removing a NIC go through libvirt's device calls (see `changeDevices`).
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
        let mac = try mac.map { try Self.normalizedMAC($0, pattern: Validation.unicastMACPattern) } ?? Self.randomMAC()
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
            let element = try XMLTree.parse(xml)
            try Self.changeDevices(locks, conn, domain, atomic: { try domain.attachDevice(xml) }) { devices in
                if devices.contains(where: { Self.isInterface($0, mac: mac) }) {
                    throw GuesthouseError.conflict("guest '\(domain.name)' already has an interface \(mac)")
                }
                return devices + [element]
            }
            return try Self.findNIC(mac, in: Self.nics(Self.lookup(conn, id: domain.uuid)), guest: domain.name)
        }
    }

    public func updateInterface(guestID: String, mac: String, _ update: NICUpdate) async throws -> GuestNIC {
        if let network = update.network { try Validation.name(network, field: "network") }
        if case .some(.some(let rate)) = update.rateLimitBytes {
            try Validation.range(rate, Validation.rateLimitBytes, field: "ratelimit")
        }
        let mac = try Self.normalizedMAC(mac)
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
            // The element as the guest has it now (live when it runs), changed and handed to
            // libvirt's update, which swaps the device under its own lock.
            let current = try domain.isActive() ? XMLTree.parse(domain.xml()) : Self.inactiveTree(domain)
            let element = try Self.interfaceElement(current, mac: mac, guest: domain.name)
            try Self.changeDevices(locks, conn, domain, atomic: { try domain.updateDevice(change(element).rendered()) }) { devices in
                devices.map { Self.isInterface($0, mac: mac) ? change($0) : $0 }
            }
            let fresh = try Self.lookup(conn, id: domain.uuid)
            if let rate = update.rateLimitBytes {
                try Self.setExactRate(locks, conn, fresh, mac: mac, bytes: rate)
            }
            return try Self.findNIC(mac, in: Self.nics(fresh), guest: domain.name)
        }
    }

    public func deleteInterface(guestID: String, mac: String) async throws {
        let mac = try Self.normalizedMAC(mac)
        try await withConnection("interface delete") { conn in
            let domain = try Self.lookup(conn, id: guestID)
            let current = try domain.isActive() ? XMLTree.parse(domain.xml()) : Self.inactiveTree(domain)
            let element = try Self.interfaceElement(current, mac: mac, guest: domain.name)
            try Self.changeDevices(locks, conn, domain, atomic: { try domain.detachDevice(element.rendered()) }) { devices in
                devices.filter { !Self.isInterface($0, mac: mac) }
            }
            try? Self.setExactRate(locks, conn, domain, mac: mac, bytes: nil)
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

    /// The exact rates asked for, by MAC: one metadata element per NIC
    /// (`<ghnic:rate bytes='N'/>` under `nic-rates/MAC`), and those of the older single `<rates>`
    /// element, which per-NIC elements override.
    static func exactRates(_ definition: XMLTree) -> [String: Int] {
        var rates: [String: Int] = [:]
        let legacy = definition.child("metadata")?.children.first { element in
            element.attributes.contains { $0.key.hasPrefix("xmlns") && $0.value == ratesNamespace }
        }
        for nic in legacy?.children ?? [] where nic.name.hasSuffix("nic") {
            if let mac = nic["mac"], let bytes = nic["bytes"].flatMap({ Int($0) }) { rates[mac] = bytes }
        }
        for item in DomainMetadataItems.items(in: definition, under: ratesNamespace) {
            let mac = String(item.uri.dropFirst(ratesNamespace.count + 1)).removingPercentEncoding ?? ""
            if let bytes = item.element["bytes"].flatMap({ Int($0) }) { rates[mac] = bytes }
        }
        return rates
    }

    /// Keeps (or with nil drops) the exact rate of one NIC: one per-key metadata call.
    static func setExactRate(_ locks: LibvirtLocks, _ conn: Connection, _ domain: Domain, mac: String, bytes: Int?) throws {
        try DomainMetadataItems.set(locks, conn, domain, bytes.map { "<rate bytes='\($0)'/>" }, key: "ghnic",
                                    uri: DomainMetadataItems.uri(base: ratesNamespace, item: mac))
    }

    static func nics(_ domain: Domain) throws -> [GuestNIC] {
        let xml = try domain.xml()
        let definition = try DomainDefinition(xml: xml)
        let rates = exactRates(try XMLTree.parse(xml))
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

    /// A MAC in lower case with colons; accepts '-' separators. Throws `invalidArguments` when it
    /// does not match `pattern` (by default any MAC; `Validation.unicastMACPattern` for a new one).
    static func normalizedMAC(_ text: String, pattern: String = Validation.macPattern) throws -> String {
        guard let regex = try? Regex(pattern), (try? regex.wholeMatch(in: text)) != nil else {
            let what = pattern == Validation.macPattern ? "a MAC address" : "a unicast MAC address (first octet even)"
            throw GuesthouseError.invalid("'\(text)' is not \(what)")
        }
        return text.lowercased().split(whereSeparator: { $0 == ":" || $0 == "-" }).joined(separator: ":")
    }

    static func randomMAC() -> String {
        "52:54:00:" + (0..<3).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined(separator: ":")
    }
}
