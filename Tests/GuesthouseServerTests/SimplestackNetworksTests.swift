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

    @Test func aVLANNetworkIsDefinedOnTheParentsBridge() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let body = #"{"name": "vlan42", "description": "tenant", "from_network": "isolated", "vlan": 42, "other_config": {}}"#
            let created = try await c.post(base, body)
            #expect(created.status == 201, "\(created.text)")
            #expect(created.location == base + "/vlan42")
            #expect(created.object["vlan"] as? Int == 42)
            #expect(created.object["bridge"] as? String == "ghtest0")
            #expect(created.object["forward_mode"] as? String == "bridge")
            #expect(try await c.get(base + "/vlan42").object["vlan"] as? Int == 42)
            #expect(try await c.post(base, body).status == 409)
            let badVLAN = #"{"name": "v", "from_network": "isolated", "vlan": 5000}"#
            #expect(try await c.post(base, badVLAN).status == 400)
            let noParent = #"{"name": "v", "from_network": "no-such-net", "vlan": 5}"#
            #expect(try await c.post(base, noParent).status == 404)
        }
    }
}
