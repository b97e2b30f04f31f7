import TOMLKit

/// `[containers]`: creepy-meow's containers, as libvirt-LXC domains on the overlay's bridges.
public struct ContainersConfig: Sendable, Equatable {
    /// The `[hypervisor.*]` whose url is an `lxc:` URI; nil means `lxc:///system`.
    public var provider: String?
    /// The libvirt URI containers live on (the provider's url, or `lxc:///system`).
    public var uri = "lxc:///system"
    /// The VNIs (creepy-meow's "vlan") a container may join.
    public var vnis = [2, 3, 4]
    /// Bridge name template; `{vni}` is replaced.
    public var bridge = "br{vni}"
    /// The shared base root filesystem (read-only lower layer of every container).
    public var rootfs = "/var/lib/guesthouse/rootfs/base"
    /// Where each container's own layer (upper, work and merged directories) lives.
    public var layers = "/var/lib/guesthouse/containers"
    /// Default gateway template given to containers (`{vni}` replaced), e.g. `192.168.{vni}.1`; none when nil.
    public var gateway: String?
    /// Memory limit of each container, in MiB.
    public var memoryMiB = 256
    /// The statically linked busybox the base root filesystem is built from (Debian's busybox-static).
    public var busybox = "/bin/busybox"

    public init() {}

    /// The bridge of a VNI.
    public func bridgeName(vni: Int) -> String { bridge.replacingOccurrences(of: "{vni}", with: String(vni)) }
}

/// `[overlay]`: this server's part of the VXLAN overlay.
public struct OverlayConfig: Sendable, Equatable {
    /// 1...254, unique per server: the last byte of its overlay addresses.
    public var serverID: Int
    /// The interface VXLAN runs over. Never guessed: nil keeps the overlay off.
    public var underlay: String?
    /// Multicast group template (`{vni}` replaced); used when `peers` is empty.
    public var group = "239.0.0.{vni}"
    /// Unicast underlay addresses of the other servers: one flood entry each, instead of multicast.
    public var peers: [String] = []
    /// This server's address on each bridge (`{vni}`, `{server_id}` replaced), with its prefix length.
    public var address = "192.168.{vni}.{server_id}/24"
    /// The overlay MTU (bridges, VXLAN devices, containers' eth0).
    public var mtu = 1450
    /// The VNIs, by default those of `[containers]`.
    public var vnis = [2, 3, 4]
    /// Bridge name template, by default that of `[containers]`.
    public var bridge = "br{vni}"
    /// VXLAN device name template.
    public var device = "vxlan{vni}"
    /// UDP destination port.
    public var port = 4789

    public init(serverID: Int) {
        self.serverID = serverID
    }
}

extension TableReader {
    /// Reads `[containers]` and `[overlay]` into `config` (the overlay inherits the containers' VNIs and
    /// bridge names unless it names its own).
    func readContainerSections(_ root: TOMLTable, into config: inout Config) throws {
        if let t = try table(root, "containers", path: "containers") {
            let path = "containers"
            try onlyKeys(t, ["provider", "vnis", "bridge", "rootfs", "layers", "gateway", "memory", "busybox"], path: path)
            var c = ContainersConfig()
            if let provider = try string(t, "provider", path: path) {
                guard let h = config.hypervisors[provider] else {
                    throw fail("\(path).provider", "names no [hypervisor.\(provider)]")
                }
                guard h.url.hasPrefix("lxc") else {
                    throw fail("\(path).provider", "[hypervisor.\(provider)] must have an lxc URI (lxc:///system), not \(h.url)")
                }
                c.provider = provider
                c.uri = h.url
            }
            if let vnis = try vniList(t, path: path) { c.vnis = vnis }
            if let bridge = try string(t, "bridge", path: path) {
                try interfaceTemplate(bridge, key: "\(path).bridge", vnis: c.vnis)
                c.bridge = bridge
            }
            if let v = try string(t, "rootfs", path: path) { c.rootfs = try absolutePath(v, key: "\(path).rootfs") }
            if let v = try string(t, "layers", path: path) { c.layers = try absolutePath(v, key: "\(path).layers") }
            c.gateway = try string(t, "gateway", path: path)
            if let v = try int(t, "memory", path: path, range: 16...1_048_576) { c.memoryMiB = v }
            if let v = try string(t, "busybox", path: path) { c.busybox = try absolutePath(v, key: "\(path).busybox") }
            config.containers = c
        }
        if let t = try table(root, "overlay", path: "overlay") {
            let path = "overlay"
            try onlyKeys(t, ["server_id", "underlay", "group", "peers", "address", "mtu", "vnis", "bridge", "device",
                             "port"], path: path)
            var o = OverlayConfig(serverID: try int(t, "server_id", path: path, range: 1...254, required: true)!)
            o.vnis = config.containers?.vnis ?? o.vnis
            o.bridge = config.containers?.bridge ?? o.bridge
            if let underlay = try string(t, "underlay", path: path) {
                guard Self.isInterfaceName(underlay) else { throw fail("\(path).underlay", "must be an interface name") }
                o.underlay = underlay
            }
            if let v = try string(t, "group", path: path) { o.group = v }
            if let v = try strings(t, "peers", path: path) { o.peers = v }
            if let v = try string(t, "address", path: path) { o.address = v }
            if let v = try int(t, "mtu", path: path, range: 576...9000) { o.mtu = v }
            if let v = try vniList(t, path: path) { o.vnis = v }
            if let v = try string(t, "bridge", path: path) { o.bridge = v }
            if let v = try string(t, "device", path: path) { o.device = v }
            if let v = try int(t, "port", path: path, range: 1...65535) { o.port = v }
            try interfaceTemplate(o.bridge, key: "\(path).bridge", vnis: o.vnis)
            try interfaceTemplate(o.device, key: "\(path).device", vnis: o.vnis)
            config.overlay = o
        }
    }

    private func vniList(_ t: TOMLTable, path: String) throws -> [Int]? {
        guard let value = t["vnis"] else { return nil }
        guard let array = value.array, !array.isEmpty else { throw fail("\(path).vnis", "must be a non-empty array of integers") }
        let vnis = try array.map { element in
            guard let i = element.int, (1...16_777_215).contains(i) else {
                throw fail("\(path).vnis", "must hold VNIs between 1 and 16777215")
            }
            return i
        }
        guard Set(vnis).count == vnis.count else { throw fail("\(path).vnis", "must not repeat a VNI") }
        return vnis
    }

    /// A template that names one interface per VNI: it must contain `{vni}` and give valid names.
    private func interfaceTemplate(_ template: String, key: String, vnis: [Int]) throws {
        guard template.contains("{vni}") else { throw fail(key, "must contain {vni}") }
        for vni in vnis {
            let name = template.replacingOccurrences(of: "{vni}", with: String(vni))
            guard Self.isInterfaceName(name) else {
                throw fail(key, "gives \"\(name)\" for VNI \(vni): an interface name is 1-15 letters, digits, '-', '_' or '.'")
            }
        }
    }

    private func absolutePath(_ value: String, key: String) throws -> String {
        guard value.hasPrefix("/"), !value.contains(","), !value.contains(":"), !value.contains("\n") else {
            throw fail(key, "must be an absolute path without ',' or ':'")
        }
        return value
    }

    /// A Linux interface name: 1-15 characters of letters, digits, `-`, `_`, `.`.
    static func isInterfaceName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 15 && name != "." && name != ".."
            && name.unicodeScalars.allSatisfy { c in
                switch c {
                case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".": true
                default: false
                }
            }
    }
}
