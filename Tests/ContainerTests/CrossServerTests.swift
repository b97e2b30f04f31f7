import Foundation
import GuesthouseConfig
import GuesthouseOverlay
import Testing

extension OverlayLabTests {
    /// Containers made through the API on server 1 (the host) talk across the VXLAN to server 2
    /// (a namespace) on their own VNI only, with full 1400-byte unfragmented pings.
    @Test func containersReachTheirVNIAcrossServersAndNothingElse() async throws {
        let lab = try Lab()
        defer { lab.close() }
        let overlay1 = Lab.overlay(server: 1, unicast: true)
        let up1 = try OverlayManager(config: overlay1).up().status
        let up2 = try OverlayManager(config: Lab.overlay(server: 2, unicast: true), namespace: Lab.server2).up().status
        #expect(problems(up1 + up2) == [])
        // A peer on server 2, on VNI 202, with an address of VNI 201's subnet: only layer 2 can tell them apart.
        try lab.addPeer("ght-pb", vni: 202, address: "198.18.201.20/24")

        let containers = try ContainerHarness(ids: [2011, 2012], vnis: Lab.vnis, bridge: "ghtbr{vni}", overlay: overlay1)
        defer { containers.close() }
        try await containers.run { client in
            let a = try await client.send(.post, "/api/container/create", form: "id=2011&vlan=201&ip=198.18.201.10/24")
            #expect(a.status == .ok, "\(a.text)")
            let c = try await client.send(.post, "/api/container/create", form: "id=2012&vlan=202&ip=198.18.201.30/24")
            #expect(c.status == .ok, "\(c.text)")
            let info = try await client.send(.get, "/api/container/info/2011")
            #expect(info.body["mtu"] as? Int == 1450)
            #expect(info.body["mac"] as? String == "02:01:00:00:07:db")  // server 1, id 2011 = 0x7db
        }
        let pidA = try containers.initPID(2011)
        let pidC = try containers.initPID(2012)
        let eth0 = try host.run("nsenter", ["-t", String(pidA), "-n", "ip", "-o", "link", "show", "dev", "eth0"])
        #expect(eth0.contains("mtu 1450"), "\(eth0)")

        // Same VNI across servers: container A (VNI 201) reaches server 2's address on VNI 201.
        #expect(eventually { ping(fromPID: pidA, "198.18.201.2") })
        // A full-size unfragmented ping: 1400 bytes of payload + 28 of headers in a 1450-byte overlay.
        #expect(ping(fromPID: pidA, "198.18.201.2", size: 1400, count: 3, dontFragment: true))
        // One byte over the overlay MTU cannot leave unfragmented: eth0 carries the planned MTU.
        #expect(!ping(fromPID: pidA, "198.18.201.2", size: 1423, dontFragment: true))

        // The peer on VNI 202 is alive: container C, on VNI 202, reaches it across the servers...
        #expect(eventually { ping(fromPID: pidC, "198.18.201.20") })
        // ...but container A, on VNI 201, cannot, though the address is in its own subnet.
        #expect(!ping(fromPID: pidA, "198.18.201.20", count: 3))
        // And C, on VNI 202, cannot reach server 2's address on VNI 201.
        #expect(!ping(fromPID: pidC, "198.18.201.2", count: 2))
    }
}
