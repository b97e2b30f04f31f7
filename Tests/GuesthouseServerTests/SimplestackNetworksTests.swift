import Foundation
import Testing

@Suite struct SimplestackNetworksTests {
    let base = "/test/localhost/networks"

    @Test func networksAreListedAndShown() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let list = try await c.get(base)
            #expect(list.headers[.contentType] == "application/json")
            let names = list.array.compactMap { ($0 as? [String: Any])?["id"] as? String }
            #expect(names.contains("isolated"))
            let info = try await c.get(base + "/isolated")
            #expect(info.object["bridge"] as? String == "ghtest0")
            #expect(try await c.get(base + "/nope").status == 404)
        }
    }

    /// The test driver has no host links to tag VLANs on: refused before anything is made
    /// (real VLAN networks are proven in `VLANNetworkTests`).
    @Test func aVLANNetworkIsRefusedWhereTheHostIsNotLocal() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let body = #"{"name": "vlan42", "description": "tenant", "from_network": "isolated", "vlan": 42, "other_config": {}}"#
            let refused = try await c.post(base, body)
            #expect(refused.status == 501, "\(refused.text)")
            #expect(try await c.get(base + "/vlan42").status == 404)
            let badVLAN = #"{"name": "v", "from_network": "isolated", "vlan": 5000}"#
            #expect(try await c.post(base, badVLAN).status == 400)
            let noParent = #"{"name": "v", "vlan": 5}"#
            #expect(try await c.post(base, noParent).status == 400)
            #expect(try await c.delete(base + "/nope").status == 404)
        }
    }
}
