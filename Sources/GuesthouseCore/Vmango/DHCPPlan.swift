/// The IPv4 DHCP setup of a libvirt network, read from its XML: the gateway, the ranges and the
/// static host entries. Machines get a static entry each, so their address never changes.
public struct DHCPPlan: Sendable, Equatable {
    /// The network's own address (the machines' gateway), e.g. "192.168.150.1".
    public var gateway: String
    public var prefix: Int
    public var ranges: [ClosedRange<UInt32>]
    public var hosts: [Host]

    /// A static `<host mac= name= ip=/>` entry.
    public struct Host: Sendable, Equatable {
        public var mac: String
        public var name: String
        public var ip: String

        public init(mac: String, name: String, ip: String) {
            self.mac = mac
            self.name = name
            self.ip = ip
        }

        /// The entry as `virNetworkUpdate` takes it, escaped.
        public var xml: String {
            "<host mac='\(xmlEscape(mac))' name='\(xmlEscape(name))' ip='\(xmlEscape(ip))'/>"
        }
    }

    /// Reads the first IPv4 `<ip>` element that serves DHCP.
    /// - Throws: `GuesthouseError.invalidArguments` when the network has none.
    public init(networkXML: String, network: String) throws {
        let root = try XMLTree.parse(networkXML)
        let candidates = root.children("ip").filter { ($0["family"] ?? "ipv4") == "ipv4" && $0.child("dhcp") != nil }
        guard let ip = candidates.first, let address = ip["address"], IPv4Address(address)?.value != nil else {
            throw GuesthouseError.invalid("network \"\(network)\" has no IPv4 DHCP range to give machines addresses from")
        }
        gateway = address
        if let p = ip["prefix"].flatMap(Int.init) {
            prefix = p
        } else if let mask = ip["netmask"].flatMap({ IPv4Address($0)?.value }) {
            prefix = mask.nonzeroBitCount
        } else {
            prefix = 24
        }
        let dhcp = ip.child("dhcp")!
        ranges = dhcp.children("range").compactMap { r in
            guard let s = r["start"].flatMap({ IPv4Address($0)?.value }), let e = r["end"].flatMap({ IPv4Address($0)?.value }), s <= e else { return nil }
            return s...e
        }
        hosts = dhcp.children("host").map { Host(mac: $0["mac"] ?? "", name: $0["name"] ?? "", ip: $0["ip"] ?? "") }
    }

    /// The lowest address of the ranges that no host entry, no lease and not the gateway holds.
    public func freeAddress(excluding taken: Set<String> = []) -> String? {
        var used = Set(hosts.compactMap { IPv4Address($0.ip)?.value })
        used.formUnion(taken.compactMap { IPv4Address($0)?.value })
        if let g = IPv4Address(gateway)?.value { used.insert(g) }
        for range in ranges {
            var candidate = range.lowerBound
            while true {
                if !used.contains(candidate) { return IPv4Address(candidate).description }
                if candidate == range.upperBound { break }
                candidate += 1
            }
        }
        return nil
    }

    /// The static entry for `mac`, if any.
    public func host(mac: String) -> Host? {
        hosts.first { $0.mac.lowercased() == mac.lowercased() }
    }
}
