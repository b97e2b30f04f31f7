import Foundation
import GuesthouseLibvirt
import HummingbirdTesting
import GuesthouseTestSupport
import Testing

/// VLAN networks made through the Simplestack API on `lxc:///system`, proven across a trunk to a
/// far server (a namespace, see `VLANLab`) with libvirt-LXC containers as the guests.
@Suite(.serialized) struct VLANNetworkTests {
    let base = "/lxc/localhost"

    /// Where the kernel makes 802.1Q devices, the full trunk proof; where it does not (this CI's
    /// kernel has no 8021q), a 501 that says so, with nothing left behind.
    @Test func vlanNetworksOnALinuxBridgeCarryTaggedTrafficAcrossTheTrunk() async throws {
        let vlans = VLANLab.kernelHasVLANs()
        let lab = try VLANLab(farVLANs: vlans)
        defer { lab.close() }
        try await lab.run { c in
            if vlans {
                try await proveTrunk(c, lab, expectKind: "linux-bridge", hostLinks: true)
                return
            }
            let r = try await c.send(.post, base + "/networks",
                                     json: #"{"name": "\#(lab.network(2))", "interface": "\#(lab.parent)", "vlan": 2}"#)
            #expect(r.status == .notImplemented, "\(r.text)")
            #expect((r.body["message"] as? String)?.contains("802.1Q") == true, "\(r.text)")
            #expect(try await c.send(.get, base + "/networks/\(lab.network(2))").status == .notFound)
            #expect(lab.link("\(lab.parent).2") == nil && lab.link("ghv2-\(lab.parent)") == nil)
            #expect(lab.link(lab.parent) != nil && lab.link(lab.trunkHost) != nil)
        }
    }

    /// Open vSwitch's userspace datapath (started here when installed and not running, stopped
    /// again afterwards).
    @Test func vlanNetworksOnAnOpenvswitchBridgeCarryTaggedTraffic() async throws {
        let ctl = "/usr/share/openvswitch/scripts/ovs-ctl"
        try #require(FileManager.default.fileExists(atPath: ctl), "Open vSwitch is not installed (openvswitch-switch)")
        var started = false
        if (try? host.run("ovs-vsctl", ["--timeout=5", "show"])) == nil {
            try VLANLab.ovsCtl("start --system-id=random")
            started = true
        }
        defer { if started { try? VLANLab.ovsCtl("stop") } }
        let lab = try VLANLab(overOpenvswitch: true)
        defer { lab.close() }
        try await lab.run { c in
            try await proveTrunk(c, lab, expectKind: "openvswitch", hostLinks: false)
        }
    }

    /// VLAN 2 and 3 networks on the lab's parent; container a on VLAN 2 (its NIC added while it is
    /// stopped) reaches the far VLAN 2 peer, container b on VLAN 3 (NIC added while running) reaches
    /// the far VLAN 3 peer but not the VLAN 2 one, though it has an address in VLAN 2's subnet.
    func proveTrunk(_ c: any TestClientProtocol, _ lab: VLANLab, expectKind: String, hostLinks: Bool) async throws {
        let p = lab.parent
        for (vlan, field) in [(2, "interface"), (3, "from_network")] {
            let made = try await c.send(.post, base + "/networks",
                                        json: #"{"name": "\#(lab.network(vlan))", "\#(field)": "\#(p)", "vlan": \#(vlan)}"#)
            #expect(made.status == .created, "\(made.text)")
            #expect(made.body["vlan"] as? Int == vlan)
            #expect(made.body["parent"] as? String == p)
            #expect(made.body["parent_kind"] as? String == expectKind)
            #expect(made.body["active"] as? Bool == true)
            let info = try host.run("virsh", ["-q", "net-info", lab.network(vlan)])
            #expect(info.contains(#/Active:\s+yes/#) && info.contains(#/Autostart:\s+yes/#), "\(info)")
            let shown = try await c.send(.get, base + "/networks/\(lab.network(vlan))")
            #expect(shown.body["vlan"] as? Int == vlan && shown.body["parent"] as? String == p)
            if hostLinks {
                #expect(made.body["bridge"] as? String == "ghv\(vlan)-\(p)")
                let device = try #require(lab.link("\(p).\(vlan)"))
                let kindInfo = device["linkinfo"] as? [String: Any]
                #expect(kindInfo?["info_kind"] as? String == "vlan")
                #expect((kindInfo?["info_data"] as? [String: Any])?["id"] as? Int == vlan)
                #expect(device["link"] as? String == p)
                #expect(device["master"] as? String == "ghv\(vlan)-\(p)")
                #expect(device["ifalias"] as? String == "guesthouse:vlan:\(lab.network(vlan))")
            } else {
                #expect(made.body["bridge"] as? String == p)
                let xml = try host.run("virsh", ["net-dumpxml", lab.network(vlan)])
                #expect(xml.contains("<tag id='\(vlan)'/>") && xml.contains("openvswitch"), "\(xml)")
            }
        }
        // What `serve` does at start: a stopped VLAN network is started again (and its links remade).
        try host.run("virsh", ["-q", "net-destroy", lab.network(3)])
        let pool = ConnectionPool.standalone()
        let hypervisor = LibvirtHypervisor(pool: pool, executor: pool.executor, uri: "lxc:///system",
                                           family: "lxc", domainType: "lxc", hostName: "localhost")
        let (applied, _) = try await hypervisor.reapplyVLANLinks()
        #expect(applied.contains(lab.network(3)))
        #expect(try host.run("virsh", ["-q", "net-info", lab.network(3)]).contains(#/Active:\s+yes/#))

        try lab.defineContainer("a", start: false)
        let nicA = try await c.send(.post, base + "/guests/\(lab.container("a"))/network_interfaces",
                                    json: #"{"network": "\#(lab.network(2))"}"#)
        #expect(nicA.status == .created, "\(nicA.text)")
        try lab.startContainer("a")
        try lab.defineContainer("b", start: true)
        let nicB = try await c.send(.post, base + "/guests/\(lab.container("b"))/network_interfaces",
                                    json: #"{"network": "\#(lab.network(3))"}"#)
        #expect(nicB.status == .created, "\(nicB.text)")
        try lab.address("a", ["198.18.202.1/24"])
        try lab.address("b", ["198.18.203.1/24", "198.18.202.3/24"])

        let pidA = try lab.initPID("a"), pidB = try lab.initPID("b")
        let before = lab.rxPackets(lab.farPeer(2), namespace: lab.namespace)
        #expect(eventually(within: 15) { ping(fromPID: pidA, "198.18.202.2") }, "VLAN 2 does not reach across the trunk")
        #expect(lab.rxPackets(lab.farPeer(2), namespace: lab.namespace) > before, "nothing arrived on the far VLAN 2 peer")
        if lab.overOpenvswitch, let mac = nicA.body["mac"] as? String {
            // The far bridge learned container a's MAC in VLAN 2 from the trunk: the frames crossed tagged 2.
            let fdb = try host.run("ovs-appctl", ["fdb/show", lab.farBridge])
            let learned = fdb.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
                .first { $0.count >= 3 && $0[2].lowercased() == mac.lowercased() }
            #expect(learned?[1] == "2", "\(fdb)")
        }
        #expect(eventually(within: 15) { ping(fromPID: pidB, "198.18.203.2") }, "VLAN 3 does not reach across the trunk")
        #expect(!ping(fromPID: pidB, "198.18.202.2", count: 2), "VLAN 3 reached VLAN 2's peer")
        #expect(!ping(fromPID: pidB, "198.18.202.1", count: 2), "VLAN 3 reached VLAN 2's container")

        // In use: 409 and nothing removed.
        let busy = try await c.send(.delete, base + "/networks/\(lab.network(2))")
        #expect(busy.status == .conflict, "\(busy.text)")
        #expect(try await c.send(.get, base + "/networks/\(lab.network(2))").status == .ok)
        if hostLinks { #expect(lab.link("\(p).2") != nil && lab.link("ghv2-\(p)") != nil) }

        for letter in ["a", "b"] {
            try host.run("virsh", ["-q", "-c", "lxc:///system", "destroy", lab.container(letter)])
            try host.run("virsh", ["-q", "-c", "lxc:///system", "undefine", lab.container(letter)])
        }
        for vlan in [2, 3] {
            let gone = try await c.send(.delete, base + "/networks/\(lab.network(vlan))")
            #expect(gone.status == .noContent, "\(gone.text)")
            #expect(try await c.send(.get, base + "/networks/\(lab.network(vlan))").status == .notFound)
            #expect(lab.link("\(p).\(vlan)") == nil && lab.link("ghv\(vlan)-\(p)") == nil)
        }
        // Only what Guesthouse made is gone: the parent and the trunk stay.
        #expect(lab.link(p) != nil && lab.link(lab.trunkHost) != nil)
    }

    @Test func aParentThatDoesNotExistIsRefusedWithNothingLeftBehind() async throws {
        let lab = VLANLab(namesOnly: ())
        try await lab.run { c in
            let missing = "ghtno\(lab.suffix)"
            for field in ["interface", "from_network"] {
                let r = try await c.send(.post, base + "/networks",
                                         json: #"{"name": "\#(lab.network(5))", "\#(field)": "\#(missing)", "vlan": 5}"#)
                #expect(r.status == .notFound, "\(r.text)")
                #expect((r.body["message"] as? String)?.contains(missing) == true)
            }
            #expect(try await c.send(.get, base + "/networks/\(lab.network(5))").status == .notFound)
            #expect(!hostHasLink("\(missing).5") && !hostHasLink("ghv5-\(missing)"))
            let lo = try await c.send(.post, base + "/networks", json: #"{"name": "\#(lab.network(5))", "interface": "lo", "vlan": 5}"#)
            #expect(lo.status == .badRequest, "\(lo.text)")
            #expect(!hostHasLink("lo.5"))
            // A network Guesthouse did not make is never deleted.
            let foreign = lab.network(9)
            let file = "/tmp/\(foreign).xml"
            try "<network><name>\(foreign)</name><forward mode='bridge'/><bridge name='ghtnb\(lab.suffix)'/></network>"
                .write(toFile: file, atomically: true, encoding: .utf8)
            defer {
                try? FileManager.default.removeItem(atPath: file)
                succeeds("virsh", ["-q", "net-undefine", foreign])
            }
            try host.run("virsh", ["-q", "net-define", file])
            let refused = try await c.send(.delete, base + "/networks/\(foreign)")
            #expect(refused.status == .conflict, "\(refused.text)")
            #expect(succeeds("virsh", ["-q", "net-info", foreign]))
            let both = try await c.send(.post, base + "/networks",
                                        json: #"{"name": "x", "interface": "lo", "from_network": "default", "vlan": 5}"#)
            #expect(both.status == .badRequest)
        }
    }
}
