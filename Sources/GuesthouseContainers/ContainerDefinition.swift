import GuesthouseCore
import GuesthouseOverlay

/// A container's libvirt-LXC domain definition: written from a spec, read back from libvirt's XML.
struct ContainerDefinition: Sendable, Equatable {
    static let namespace = "https://guesthouse.dev/schema/container/1"
    static let namePrefix = "container"

    var id: Int
    var vlan: Int
    var ip: IPv4Interface
    var bridge: String
    var mac: String
    var gateway: IPv4Address?
    var mtu: Int?
    var memoryMiB: Int
    var rootfs: String
    /// The server user who created it.
    var creator: String?

    var name: String { Self.name(id) }

    static func name(_ id: Int) -> String { "\(namePrefix)\(id)" }

    /// The id in a domain name `container<id>`, or nil.
    static func id(fromName name: String) -> Int? {
        guard name.hasPrefix(namePrefix) else { return nil }
        let digits = name.dropFirst(namePrefix.count)
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
              digits == "0" || !digits.hasPrefix("0") else { return nil }
        return Int(digits)
    }

    /// A stable, locally administered MAC: `02:<server>:<id, 32 bits>`, so a container keeps its MAC
    /// across restarts and two servers never give the same one.
    static func mac(id: Int, serverID: Int) -> String {
        let bytes = [0x02, serverID & 0xFF, id >> 24 & 0xFF, id >> 16 & 0xFF, id >> 8 & 0xFF, id & 0xFF]
        return bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: ":")
    }

    /// The domain XML (everything escaped).
    var xml: String {
        var route = ""
        if let gateway {
            route = "\n      <route family='ipv4' address='0.0.0.0' prefix='0' gateway='\(gateway)'/>"
        }
        let mtuEnv = mtu.map { "\n    <initenv name='GH_MTU'>\($0)</initenv>" } ?? ""
        let mtuElement = mtu.map { "\n      <mtu size='\($0)'/>" } ?? ""
        let creatorAttribute = creator.map { " creator='\(xmlEscape($0))'" } ?? ""
        return """
        <domain type='lxc'>
          <name>\(xmlEscape(name))</name>
          <title>guesthouse container \(id)</title>
          <metadata>
            <gh:container xmlns:gh='\(Self.namespace)' id='\(id)' vlan='\(vlan)' ip='\(ip)'\(creatorAttribute)/>
          </metadata>
          <memory unit='MiB'>\(memoryMiB)</memory>
          <vcpu>1</vcpu>
          <os>
            <type>exe</type>
            <init>\(BaseRootfs.initPath)</init>
            <initenv name='GH_NAME'>\(xmlEscape(name))</initenv>\(mtuEnv)
          </os>
          <features>
            <privnet/>
          </features>
          <on_poweroff>destroy</on_poweroff>
          <on_reboot>restart</on_reboot>
          <on_crash>destroy</on_crash>
          <devices>
            <filesystem type='mount'>
              <source dir='\(xmlEscape(rootfs))'/>
              <target dir='/'/>
            </filesystem>
            <interface type='bridge'>
              <mac address='\(mac)'/>
              <source bridge='\(xmlEscape(bridge))'/>
              <ip address='\(ip.address)' prefix='\(ip.prefix)'/>\(route)
              <guest dev='eth0'/>\(mtuElement)
            </interface>
            <console type='pty'/>
          </devices>
        </domain>
        """
    }

    /// What libvirt's XML of a container says: its interface, its metadata, its root.
    struct Parsed: Sendable, Equatable {
        var vlan: Int?
        var ip: String?
        var gateway: String?
        var mac: String?
        var bridge: String?
        var mtu: Int?
        var memoryKiB: UInt64?
        var creator: String?
    }

    static func parse(_ xml: String, bridgeToVNI: (String) -> Int?) -> Parsed {
        guard let definition = try? DomainDefinition(xml: xml) else { return Parsed() }
        return parse(definition, bridgeToVNI: bridgeToVNI)
    }

    /// What a parsed definition (e.g. the host view's) says of a container.
    static func parse(_ definition: DomainDefinition, bridgeToVNI: (String) -> Int?) -> Parsed {
        var parsed = Parsed()
        parsed.memoryKiB = definition.memoryKiB
        let interface = definition.interfaces.first
        parsed.mac = interface.flatMap { $0.mac.isEmpty ? nil : $0.mac }
        parsed.bridge = interface?.bridge
        parsed.ip = interface?.address
        parsed.gateway = interface?.gateway
        parsed.mtu = interface?.mtu
        parsed.vlan = parsed.bridge.flatMap(bridgeToVNI)
        if let metadata = definition.metadata[namespace] {
            if parsed.vlan == nil { parsed.vlan = metadata["vlan"].flatMap { Int($0) } }
            parsed.creator = metadata["creator"]
        }
        return parsed
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
