import Foundation
import GuesthouseConfig
import GuesthouseLibvirt
import GuesthouseServer
import Hummingbird
import HummingbirdTesting
import Libvirt

/// A trunk between this host and a far "server", made only of test-made links (`ght...<sfx>`):
/// - over a Linux bridge: the parent `ghtb<sfx>` is a Linux bridge on the host with one end of a veth
///   pair as its port; the other end sits in the namespace `ght-vl<sfx>` (the far server) on its own
///   bridge `br0`, with VLAN devices `br0.2` and `br0.3` (198.18.202.2/24, 198.18.203.2/24) as peers.
/// - over Open vSwitch (userspace datapath: this kernel has no OVS module): the parent `ghtb<sfx>`
///   is an OVS bridge with the trunk's end as port; the far server's OVS bridge `ghtf<sfx>` has the
///   other end and access ports tagged 2 and 3 whose veth peers sit in `ght-vl<sfx>` with the peers'
///   addresses.
/// `close()` removes the containers, networks, links and the namespace, also after a failure.
final class VLANLab: @unchecked Sendable {
    let suffix = String(UUID().uuidString.lowercased().prefix(4))
    var namespace: String { "ght-vl\(suffix)" }
    var parent: String { "ghtb\(suffix)" }
    var farBridge: String { "ghtf\(suffix)" }
    var trunkHost: String { "ghtk\(suffix)a" }
    var trunkFar: String { "ghtk\(suffix)b" }
    func network(_ vlan: Int) -> String { "ghtvl\(vlan)-\(suffix)" }
    func container(_ letter: String) -> String { "ghtvl\(suffix)-\(letter)" }
    /// The far peer's interface for a VLAN, in `namespace`.
    func farPeer(_ vlan: Int) -> String { overOpenvswitch ? "ghtp\(suffix)\(vlan)b" : "br0.\(vlan)" }
    let config: Config
    let overOpenvswitch: Bool

    /// A lab with names and a server but no links.
    init(namesOnly: Void) {
        config = Self.config()
        overOpenvswitch = false
        Libvirt.initialize()
    }

    static func config() -> Config {
        var config = Config()
        config.users["admin"] = UserConfig(name: "admin", passwordHash: ContainerHarness.passwordHash)
        return config
    }

    /// Whether this kernel makes 802.1Q VLAN devices (tried in a scratch namespace).
    static func kernelHasVLANs() -> Bool {
        let ns = "ght-vlprobe\(UUID().uuidString.prefix(4))"
        guard succeeds("ip", ["netns", "add", ns]) else { return false }
        defer { succeeds("ip", ["netns", "del", ns]) }
        return succeeds("ip", ["-n", ns, "link", "add", "link", "lo", "name", "v2", "type", "vlan", "id", "2"])
    }

    init(overOpenvswitch: Bool = false, farVLANs: Bool = true) throws {
        config = Self.config()
        self.overOpenvswitch = overOpenvswitch
        Libvirt.initialize()
        for name in [parent, trunkHost, trunkFar, farBridge] where hostHasLink(name) {
            throw LabError("\(name) exists; not touching it")
        }
        do {
            try build(farVLANs: farVLANs)
        } catch {
            close()
            throw error
        }
    }

    private func build(farVLANs: Bool) throws {
        try host.run("ip", ["netns", "add", namespace])
        let far = ["-n", namespace]
        if overOpenvswitch {
            for bridge in [parent, farBridge] {
                try ovs(["add-br", bridge, "--", "set", "bridge", bridge, "datapath_type=netdev"])
                try host.run("ip", ["link", "set", bridge, "up"])
            }
            try host.run("ip", ["link", "add", trunkHost, "type", "veth", "peer", "name", trunkFar])
            try ovs(["add-port", parent, trunkHost])
            try ovs(["add-port", farBridge, trunkFar])
            try host.run("ip", ["link", "set", trunkHost, "up"])
            try host.run("ip", ["link", "set", trunkFar, "up"])
            for vlan in [2, 3] {
                let outside = "ghtp\(suffix)\(vlan)a"
                try host.run("ip", ["link", "add", outside, "type", "veth", "peer", "name", farPeer(vlan), "netns", namespace])
                try ovs(["add-port", farBridge, outside, "tag=\(vlan)"])
                try host.run("ip", ["link", "set", outside, "up"])
                try host.run("ip", far + ["addr", "add", "198.18.20\(vlan).2/24", "dev", farPeer(vlan)])
                try host.run("ip", far + ["link", "set", farPeer(vlan), "up"])
            }
            return
        }
        try host.run("ip", ["link", "add", parent, "type", "bridge", "stp_state", "0"])
        try host.run("ip", ["link", "add", trunkHost, "type", "veth", "peer", "name", trunkFar, "netns", namespace])
        try host.run("ip", ["link", "set", trunkHost, "master", parent])
        try host.run("ip", ["link", "set", trunkHost, "up"])
        try host.run("ip", ["link", "set", parent, "up"])
        try host.run("ip", far + ["link", "add", "br0", "type", "bridge", "stp_state", "0"])
        try host.run("ip", far + ["link", "set", trunkFar, "master", "br0", "up"])
        try host.run("ip", far + ["link", "set", "br0", "up"])
        guard farVLANs else { return }
        for vlan in [2, 3] {
            try host.run("ip", far + ["link", "add", "link", "br0", "name", "br0.\(vlan)", "type", "vlan", "id", String(vlan)])
            try host.run("ip", far + ["addr", "add", "198.18.20\(vlan).2/24", "dev", "br0.\(vlan)"])
            try host.run("ip", far + ["link", "set", "br0.\(vlan)", "up"])
        }
    }

    /// Runs `ovs-ctl start|stop`, which leaves daemons behind. Not through `HostCommand` or
    /// `Process`: the daemons inherit the descriptors those wait on and the test would hang until
    /// they exit. `system(3)` waits for the script only (a fixed command line, no input in it).
    static func ovsCtl(_ action: String) throws {
        precondition(["start --system-id=random", "stop"].contains(action))
        let status = system("/usr/share/openvswitch/scripts/ovs-ctl \(action) </dev/null >/dev/null 2>&1")
        guard status == 0 else { throw LabError("ovs-ctl \(action) exited \(status)") }
    }

    @discardableResult
    func ovs(_ arguments: [String]) throws -> String { try host.run("ovs-vsctl", ["--timeout=10"] + arguments) }

    /// Runs `body` with an HTTP client against the router (real libvirt).
    func run(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let pool = ConnectionPool.standalone()
        let directory = LibvirtDirectory(config: config, pool: pool, executor: pool.executor)
        let (router, _) = buildRouter(config: config, directory: directory, authenticator: Authenticator(users: config.users))
        try await Application(router: router).test(.router, body)
    }

    /// Defines (and starts, when asked) a libvirt-LXC container sharing the host's root that only
    /// sleeps: its network namespace is what the test uses.
    func defineContainer(_ letter: String, start: Bool) throws {
        let xml = "<domain type='lxc'><name>\(container(letter))</name><memory unit='MiB'>32</memory><os><type>exe</type>"
            + "<init>/bin/sleep</init><initarg>3600</initarg></os><features><privnet/></features><devices><console type='pty'/></devices></domain>"
        let file = "/tmp/\(container(letter)).xml"
        try xml.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        try host.run("virsh", ["-q", "-c", "lxc:///system", "define", file])
        if start { try host.run("virsh", ["-q", "-c", "lxc:///system", "start", container(letter)]) }
    }

    func startContainer(_ letter: String) throws {
        try host.run("virsh", ["-q", "-c", "lxc:///system", "start", container(letter)])
    }

    func initPID(_ letter: String) throws -> Int32 { try lxcInitPID(container(letter)) }

    /// Gives the container's one Ethernet interface these addresses and brings it up.
    func address(_ letter: String, _ addresses: [String]) throws {
        let pid = String(try initPID(letter))
        let links = try host.run("nsenter", ["-t", pid, "-n", "ip", "-j", "link", "show"])
        let names = ((try JSONSerialization.jsonObject(with: Data(links.utf8)) as? [[String: Any]]) ?? [])
            .compactMap { $0["ifname"] as? String }.filter { $0 != "lo" }
        guard names.count == 1, let name = names.first else { throw LabError("\(container(letter)) has links \(names)") }
        for address in addresses {
            try host.run("nsenter", ["-t", pid, "-n", "ip", "addr", "add", address, "dev", name])
        }
        try host.run("nsenter", ["-t", pid, "-n", "ip", "link", "set", name, "up"])
    }

    /// `ip -d -j link show` of a host link, or nil.
    func link(_ name: String, namespace: String? = nil) -> [String: Any]? {
        let ns = namespace.map { ["-n", $0] } ?? []
        guard let output = try? host.run("ip", ns + ["-d", "-j", "link", "show", "dev", name]) else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])?.first
    }

    func rxPackets(_ name: String, namespace: String) -> Int {
        let output = (try? host.run("ip", ["-n", namespace, "-s", "-j", "link", "show", "dev", name])) ?? ""
        let first = (try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])?.first
        return ((first?["stats64"] as? [String: Any])?["rx"] as? [String: Any])?["packets"] as? Int ?? 0
    }

    func close() {
        for letter in ["a", "b"] {
            succeeds("virsh", ["-q", "-c", "lxc:///system", "destroy", container(letter)])
            succeeds("virsh", ["-q", "-c", "lxc:///system", "undefine", container(letter)])
        }
        for vlan in [2, 3] {
            succeeds("virsh", ["-q", "net-destroy", network(vlan)])
            succeeds("virsh", ["-q", "net-undefine", network(vlan)])
            for name in ["ghv\(vlan)-\(parent)", "\(parent).\(vlan)"] where hostHasLink(name) {
                succeeds("ip", ["link", "del", "dev", name])
            }
        }
        for bridge in [parent, farBridge] where (try? ovs(["br-exists", bridge])) != nil {
            succeeds("ovs-vsctl", ["--timeout=10", "del-br", bridge])
        }
        for name in [trunkHost, trunkFar, "ghtp\(suffix)2a", "ghtp\(suffix)3a", parent] where hostHasLink(name) {
            succeeds("ip", ["link", "del", "dev", name])
        }
        succeeds("ip", ["netns", "del", namespace])
    }
}

/// The pid of a running libvirt-LXC container's init (the child of its libvirt_lxc controller).
func lxcInitPID(_ domain: String) throws -> Int32 {
    let controller = try host.run("virsh", ["-q", "-c", "lxc:///system", "domid", domain])
        .trimmingCharacters(in: .whitespacesAndNewlines)
    let children = try String(contentsOfFile: "/proc/\(controller)/task/\(controller)/children", encoding: .utf8)
    guard let pid = children.split(separator: " ").first.flatMap({ Int32($0) }) else {
        throw LabError("\(domain) has no init process")
    }
    return pid
}
