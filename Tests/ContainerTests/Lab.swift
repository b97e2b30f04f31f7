import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseOverlay

/// Host programs for the tests (argument arrays through `HostCommand`).
let host = HostCommand()

/// Runs a program; true when it exits 0.
@discardableResult
func succeeds(_ program: String, _ arguments: [String]) -> Bool {
    (try? host.run(program, arguments)) != nil
}

/// Polls `condition` every 50 ms until it holds or `seconds` pass; returns whether it held.
func eventually(within seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while true {
        if try condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        Thread.sleep(forTimeInterval: 0.05)
    }
}

/// Whether an interface of this name exists in the host's namespace.
func hostHasLink(_ name: String) -> Bool { FileManager.default.fileExists(atPath: "/sys/class/net/\(name)") }

/// A two-server lab: the host is server 1, a network namespace is server 2, joined by a veth pair
/// the lab makes (the underlay). Only test-only names (`ght...`) and the benchmarking ranges
/// 198.18.0.0/15 are used; the host's own interfaces and routes are never touched. `close()`
/// removes everything the lab and the overlay made, and runs even when a test fails (`defer`).
final class Lab {
    static let server2 = "ght-s2"
    static let hostUnderlay = "ghtu1"
    static let nsUnderlay = "ghtu2"
    static let hostUnderlayAddress = "198.19.91.1"
    static let nsUnderlayAddress = "198.19.91.2"
    /// Test-only VNIs; devices `ghtvx<vni>`, bridges `ghtbr<vni>`, addresses `198.18.<vni>.<server>/24`.
    static let vnis = [201, 202]

    private(set) var namespaces: [String] = []

    /// Makes server 2 and the underlay; refuses to run when a test-only name is taken by something
    /// that is not a leftover of this lab.
    init() throws {
        Lab.removeLeftovers()
        for name in [Self.hostUnderlay] + Self.vnis.flatMap({ ["ghtvx\($0)", "ghtbr\($0)"] }) where hostHasLink(name) {
            throw LabError("\(name) exists on the host; the lab will not touch it")
        }
        try addNamespace(Self.server2)
        try host.run("ip", ["link", "add", Self.hostUnderlay, "type", "veth", "peer", "name", Self.nsUnderlay,
                            "netns", Self.server2])
        try host.run("ip", ["addr", "add", "\(Self.hostUnderlayAddress)/24", "dev", Self.hostUnderlay])
        try host.run("ip", ["link", "set", Self.hostUnderlay, "up"])
        try host.run("ip", ["-n", Self.server2, "addr", "add", "\(Self.nsUnderlayAddress)/24", "dev", Self.nsUnderlay])
        try host.run("ip", ["-n", Self.server2, "link", "set", Self.nsUnderlay, "up"])
    }

    func addNamespace(_ name: String) throws {
        try host.run("ip", ["netns", "add", name])
        namespaces.append(name)
        try host.run("ip", ["-n", name, "link", "set", "lo", "up"])
    }

    /// `[overlay]` of server `id` (1: the host, 2: the namespace), by multicast or unicast peers.
    static func overlay(server id: Int, unicast: Bool) -> OverlayConfig {
        var o = OverlayConfig(serverID: id)
        o.underlay = id == 1 ? hostUnderlay : nsUnderlay
        o.vnis = vnis
        o.device = "ghtvx{vni}"
        o.bridge = "ghtbr{vni}"
        o.address = "198.18.{vni}.{server_id}/24"
        o.group = "239.255.91.{vni}"
        if unicast { o.peers = [id == 1 ? nsUnderlayAddress : hostUnderlayAddress] }
        return o
    }

    /// A peer host on server 2: a namespace whose interface sits on server 2's bridge of `vni`.
    func addPeer(_ name: String, vni: Int, address: String) throws {
        try addNamespace(name)
        let outside = "\(name.suffix(6))a", inside = "\(name.suffix(6))b"
        try host.run("ip", ["-n", Self.server2, "link", "add", outside, "type", "veth", "peer", "name", inside,
                            "netns", name])
        try host.run("ip", ["-n", Self.server2, "link", "set", outside, "master", "ghtbr\(vni)", "up"])
        try host.run("ip", ["-n", name, "addr", "add", address, "dev", inside])
        try host.run("ip", ["-n", name, "link", "set", inside, "up"])
    }

    /// Removes the overlay on the host, the namespaces (with everything in them) and the underlay.
    func close() {
        Self.removeLeftovers(namespaces: namespaces)
    }

    /// Removes the lab's test-only interfaces and namespaces, whatever a failed run left.
    static func removeLeftovers(namespaces: [String] = []) {
        for name in vnis.flatMap({ ["ghtbr\($0)", "ghtvx\($0)"] }) where hostHasLink(name) {
            if (try? host.run("ip", ["-j", "link", "show", "dev", name]))?.contains(OverlayManager.alias) == true {
                succeeds("ip", ["link", "del", "dev", name])
            }
        }
        let existing = (try? host.run("ip", ["netns", "list"])) ?? ""
        for ns in Set(namespaces + [server2, "ght-pb"]) where existing.contains(ns) {
            succeeds("ip", ["netns", "del", ns])
        }
        if hostHasLink(hostUnderlay) { succeeds("ip", ["link", "del", "dev", hostUnderlay]) }
    }
}

struct LabError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Pings from a network namespace given by a process (a container's init) with the host's
/// iputils ping: `-M do` forbids fragmentation.
func ping(fromPID pid: Int32, _ target: String, size: Int = 56, count: Int = 1, dontFragment: Bool = false) -> Bool {
    var arguments = ["-t", String(pid), "-n", "ping", "-n", "-q", "-c", String(count), "-W", "1", "-s", String(size)]
    if dontFragment { arguments += ["-M", "do"] }
    return succeeds("nsenter", arguments + [target])
}

/// Pings from a named network namespace.
func ping(fromNamespace ns: String, _ target: String, size: Int = 56, dontFragment: Bool = false) -> Bool {
    var arguments = ["netns", "exec", ns, "ping", "-n", "-q", "-c", "1", "-W", "1", "-s", String(size)]
    if dontFragment { arguments += ["-M", "do"] }
    return succeeds("ip", arguments + [target])
}

/// Every problem the segments report (empty when all is as planned).
func problems(_ status: [SegmentStatus]) -> [String] { status.flatMap { $0.problems } }
