import Foundation
import Testing

@Suite struct SimplestackInterfacesTests {
    let guest = "/test/localhost/guests/guest1"

    @Test func interfacesAreListedByMAC() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let nic = try #require(try await c.get(guest + "/network_interfaces").array.first as? [String: Any])
            #expect(nic["id"] as? String == "52:54:00:aa:bb:01")
            #expect(nic["mac"] as? String == "52:54:00:aa:bb:01")
            #expect(nic["network"] as? String == "isolated")
            #expect(nic["number"] as? Int == 0)
            for key in ["locking_mode", "ipv4_allowed", "ipv6_allowed", "rate_limit"] { #expect(nic.keys.contains(key)) }
            // The MAC arrives unescaped in the path.
            #expect(try await c.get(guest + "/network_interfaces/52:54:00:aa:bb:01").status == 200)
            #expect(try await c.get(guest + "/network_interfaces/52:54:00:aa:bb:99").status == 404)
            #expect(try await c.get(guest + "/network_interfaces/not-a-mac").status == 400)
        }
    }

    @Test func aStoppedGuestGetsChangesAndLosesInterfaces() async throws {
        try await SurfaceHarness.withTestDriver { c in
            #expect(try await c.put(guest + "/power", #"{"state": "force_stop"}"#).status == 200)
            let created = try await c.post(guest + "/network_interfaces", #"{"network": "isolated"}"#)
            #expect(created.status == 201)
            let mac = try #require(created.object["id"] as? String)
            #expect(mac.hasPrefix("52:54:00:"))
            #expect(created.location == guest + "/network_interfaces/" + mac)
            let limited = try await c.put(guest + "/network_interfaces/" + mac, #"{"ratelimit": 1000}"#)
            #expect(limited.status == 200)
            #expect(limited.object["rate_limit"] as? Int == 1000)
            #expect(try await c.get(guest + "/network_interfaces/" + mac).object["rate_limit"] as? Int == 1000)
            let down = try await c.put(guest + "/network_interfaces/" + mac, #"{"link_state": "down", "ratelimit": false}"#)
            #expect(down.object["link_state"] as? String == "down")
            #expect(down.object["rate_limit"] is NSNull)
            #expect(try await c.put(guest + "/network_interfaces/" + mac, #"{"network": "nope"}"#).status == 404)
            #expect(try await c.put(guest + "/network_interfaces/" + mac, #"{"ratelimit": "fast"}"#).status == 400)
            #expect(try await c.delete(guest + "/network_interfaces/" + mac).status == 204)
            #expect(try await c.get(guest + "/network_interfaces").array.count == 1)
        }
    }

    @Test func anInterfaceNeedsAnExistingNetwork() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let unknown = try await c.post(guest + "/network_interfaces", #"{"network": "nope"}"#)
            #expect(unknown.errorClass == "EntityNotFound")
            let missing = try await c.post(guest + "/network_interfaces", "{}")
            #expect(missing.status == 400)
        }
    }
}
