import Foundation
import GuesthouseOverlay
import Testing

/// `VLANLinks` on test-made links in a namespace of its own (removed even after a failure).
@Suite struct VLANLinksTests {
    @Test func parentsAreClassifiedByWhatTheyAre() throws {
        let ns = "ght-vlc\(UUID().uuidString.prefix(4))"
        try host.run("ip", ["netns", "add", ns])
        defer { succeeds("ip", ["netns", "del", ns]) }
        let links = VLANLinks(namespace: ns)
        let ip = ["-n", ns]
        try host.run("ip", ip + ["link", "add", "br0", "type", "bridge"])
        try host.run("ip", ip + ["link", "add", "up0", "type", "veth", "peer", "name", "up1"])
        try host.run("ip", ip + ["link", "add", "port0", "type", "veth", "peer", "name", "port1"])
        try host.run("ip", ip + ["link", "set", "port0", "master", "br0"])
        #expect(try links.classify("br0") == .linuxBridge)
        #expect(try links.classify("up0") == .interface)
        #expect(throws: VLANLinkError.unsupportedParent("port0 is a port of br0: name br0 as the parent")) {
            try links.classify("port0")
        }
        #expect(throws: VLANLinkError.missingParent("nope0")) { try links.classify("nope0") }
        do {
            _ = try links.classify("lo")
            Issue.record("lo was accepted")
        } catch let error as VLANLinkError {
            #expect(error.description.contains("lo is not an Ethernet interface"), "\(error)")
        }
    }

    @Test func namesFitInterfaceNames() throws {
        let plan = try VLANLinkPlan(network: "n", uplink: "bond0", vlan: 42)
        #expect(plan.device == "bond0.42" && plan.bridge == "ghv42-bond0" && plan.alias == "guesthouse:vlan:n")
        let long = try VLANLinkPlan(network: "n", uplink: "enp0s31f6", vlan: 4094)
        #expect(long.device == "enp0s31f6.4094")
        #expect(long.bridge.hasPrefix("ghv4094-") && long.bridge.utf8.count <= 15, "\(long.bridge)")
        #expect(try VLANLinkPlan(network: "m", uplink: "enp0s31f6", vlan: 4094).bridge == long.bridge)
        #expect(throws: VLANLinkError.self) { try VLANLinkPlan(network: "n", uplink: "enp0s20f0u1u2", vlan: 4094) }
    }

    /// A link in the plan's place that Guesthouse did not make stops `up` and survives `down`; on a
    /// kernel without 802.1Q, `up` says so and leaves nothing.
    @Test func foreignLinksAreLeftAloneAndNothingIsLeftBehind() throws {
        let ns = "ght-vlf\(UUID().uuidString.prefix(4))"
        try host.run("ip", ["netns", "add", ns])
        defer { succeeds("ip", ["netns", "del", ns]) }
        let links = VLANLinks(namespace: ns)
        let ip = ["-n", ns]
        try host.run("ip", ip + ["link", "add", "br0", "type", "bridge"])
        let plan = try VLANLinkPlan(network: "net", uplink: "br0", vlan: 2)
        try host.run("ip", ip + ["link", "add", plan.device, "type", "bridge"])
        try host.run("ip", ip + ["link", "set", "dev", plan.device, "alias", "someone else's"])
        #expect(throws: VLANLinkError.foreignInterface(plan.device, alias: "someone else's")) { try links.up(plan) }
        #expect(try links.down(plan).isEmpty)
        #expect(succeeds("ip", ip + ["link", "show", "dev", plan.device]))
        try host.run("ip", ip + ["link", "del", "dev", plan.device])
        if !VLANLab.kernelHasVLANs() {
            #expect(throws: VLANLinkError.noKernelVLANs) { try links.up(plan) }
            #expect(!succeeds("ip", ip + ["link", "show", "dev", plan.device]))
            #expect(!succeeds("ip", ip + ["link", "show", "dev", plan.bridge]))
        } else {
            try links.up(plan)
            try links.up(plan)
            #expect(try links.problems(plan).isEmpty)
            #expect(Set(try links.down(plan)) == [plan.device, plan.bridge])
            #expect(succeeds("ip", ip + ["link", "show", "dev", "br0"]))
        }
    }
}
