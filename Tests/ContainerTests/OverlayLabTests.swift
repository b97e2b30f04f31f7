import Foundation
import GuesthouseConfig
import GuesthouseOverlay
import Testing

/// The overlay on two simulated servers: the host (server 1) and a network namespace (server 2),
/// joined by a veth pair the lab makes. Serialized: the tests share the lab's names.
@Suite(.serialized)
struct OverlayLabTests {
    @Test func theOverlayComesUpOnTheHostAndOnANamespaceServer() throws {
        let lab = try Lab()
        defer { lab.close() }
        let server1 = OverlayManager(config: Lab.overlay(server: 1, unicast: false))
        let server2 = OverlayManager(config: Lab.overlay(server: 2, unicast: false), namespace: Lab.server2)

        let (plan, status1) = try server1.up()
        #expect(plan.mtu == 1450 && plan.warnings.isEmpty)
        #expect(status1.map(\.vni) == [201, 202])
        #expect(problems(status1) == [])
        #expect(status1[0].addresses == ["198.18.201.1/24"])
        #expect(status1[0].flood == ["239.255.91.201"])
        #expect(status1[0].ports == ["ghtvx201"])
        #expect(status1[0].mtu == 1450)
        let status2 = try server2.up().status
        #expect(problems(status2) == [])
        #expect(status2[1].addresses == ["198.18.202.2/24"])
        // Server 2's interfaces live in its namespace only.
        #expect(!(try host.run("ip", ["-o", "link"])).contains("ghtvx201@ghtu2"))
        #expect(try host.run("ip", ["-n", Lab.server2, "-o", "link"]).contains("ghtvx201"))

        // Across the VXLAN (multicast flooding over the veth underlay): server 1 reaches server 2 on each VNI.
        for vni in Lab.vnis {
            #expect(eventually { ping(fromNamespace: Lab.server2, "198.18.\(vni).1") }, "vni \(vni)")
        }
        #expect(ping(fromNamespace: Lab.server2, "198.18.201.1", size: 1400, dontFragment: true))
    }

    @Test func upIsIdempotentAndDownRemovesOnlyWhatItMade() throws {
        let lab = try Lab()
        defer { lab.close() }
        let manager = OverlayManager(config: Lab.overlay(server: 1, unicast: true))
        _ = try manager.up()
        let index = try host.run("cat", ["/sys/class/net/ghtvx201/ifindex"])
        let again = try manager.up().status
        #expect(problems(again) == [])
        #expect(try host.run("cat", ["/sys/class/net/ghtvx201/ifindex"]) == index)  // not remade
        #expect(again[0].flood == [Lab.nsUnderlayAddress])
        #expect(try manager.status() == again)

        // A changed peer list is applied in place; a drifted address is put right.
        var changed = Lab.overlay(server: 1, unicast: true)
        changed.peers = [Lab.nsUnderlayAddress, "198.19.91.3"]
        try host.run("ip", ["addr", "add", "198.18.201.99/24", "dev", "ghtbr201"])
        let status = try OverlayManager(config: changed).up().status
        #expect(Set(status[0].flood) == [Lab.nsUnderlayAddress, "198.19.91.3"])
        #expect(status[0].addresses == ["198.18.201.1/24"])
        #expect(try host.run("cat", ["/sys/class/net/ghtvx201/ifindex"]) == index)

        // A status that differs from the plan says so.
        try host.run("ip", ["link", "set", "ghtbr202", "down"])
        let drifted = try manager.status()
        #expect(drifted[1].problems.contains("ghtbr202 is down"))

        let removed = try manager.down()
        #expect(Set(removed) == ["ghtvx201", "ghtbr201", "ghtvx202", "ghtbr202"])
        #expect(!hostHasLink("ghtbr201") && !hostHasLink("ghtvx202"))
        #expect(hostHasLink(Lab.hostUnderlay))  // the underlay is not the overlay's to remove
        #expect(try manager.down().isEmpty)
    }

    @Test func anInterfaceGuesthouseDidNotMakeIsNeverTouched() throws {
        let lab = try Lab()
        defer {
            succeeds("ip", ["link", "del", "dev", "ghtbr201"])
            lab.close()
        }
        try host.run("ip", ["link", "add", "ghtbr201", "type", "bridge"])  // someone else's bridge
        let manager = OverlayManager(config: Lab.overlay(server: 1, unicast: true))
        #expect(throws: OverlayError.foreignInterface("ghtbr201")) { try manager.up() }
        #expect(throws: OverlayError.foreignInterface("ghtbr201")) { try manager.down() }
        #expect(try host.run("ip", ["-4", "addr", "show", "dev", "ghtbr201"]).isEmpty)
    }

    @Test func withoutAnUnderlayTheOverlayStaysOff() throws {
        var config = Lab.overlay(server: 1, unicast: true)
        config.underlay = nil
        #expect(throws: OverlayError.noUnderlay) { try OverlayManager(config: config).up() }
        #expect(OverlayError.noUnderlay.description.contains("never guessed"))
        config.underlay = "ghtnonexist0"
        #expect(throws: OverlayError.missingUnderlay("ghtnonexist0")) { try OverlayManager(config: config).up() }
        #expect(!hostHasLink("ghtbr201"))
    }
}
