import Foundation
import GuesthouseCore
@testable import GuesthouseLibvirt
import Hummingbird
import HummingbirdTesting
import Libvirt
import Testing

/// The guest info cache: a client reads its own writes at once; changes made elsewhere show once
/// the entry is older than the TTL; a read that overlapped a change does not store what it read.
@Suite struct GuestInfoCacheTests {
    static let web1 = "/test/localhost/guests/6f1e8f2a-0000-4000-8000-000000000000"

    @Test(arguments: [60.0, 0.0]) func aClientReadsItsOwnWritesAtOnce(ttl: Double) async throws {
        try await TestServer(infoCacheSeconds: ttl).run { client in
            // build-box is stopped: a memory change shows in its (only) definition.
            let buildBox = "/test/localhost/guests/6f1e8f2a-0000-4000-8000-000000000002"
            #expect(object(try await client.call(.get, buildBox).json)["memory"] as? Int == 512)
            let updated = try await client.call(.put, buildBox, json: #"{"memory": 768}"#)
            #expect(updated.status == .ok)
            let after = try await client.call(.get, buildBox)
            #expect(object(after.json)["memory"] as? Int == 768, "\(updated.text) then \(after.text)")
            #expect(object(try await client.call(.get, Self.web1).json)["state"] as? String == "STARTED")
            _ = try await client.call(.put, Self.web1 + "/power", json: #"{"state": "force_stop"}"#)
            #expect(object(try await client.call(.get, Self.web1).json)["state"] as? String == "STOPPED")
        }
    }

    @Test func changesMadeElsewhereShowAfterTheTTL() async throws {
        // A long TTL: a change made behind the server's back is not seen while the entry is fresh...
        let cached = try TestServer(infoCacheSeconds: 60)
        try await cached.run { client in
            #expect(object(try await client.call(.get, Self.web1).json)["state"] as? String == "STARTED")
            try await cached.connection().domain(name: "web-1").destroy()
            #expect(object(try await client.call(.get, Self.web1).json)["state"] as? String == "STARTED")
        }
        // ... and with the cache off it is seen at once.
        let uncached = try TestServer(infoCacheSeconds: 0)
        try await uncached.run { client in
            #expect(object(try await client.call(.get, Self.web1).json)["state"] as? String == "STARTED")
            try await uncached.connection().domain(name: "web-1").destroy()
            #expect(object(try await client.call(.get, Self.web1).json)["state"] as? String == "STOPPED")
        }
    }

    @Test func aReadThatOverlappedAChangeIsNotKept() {
        let cache = GuestInfoCache(ttl: .seconds(60))
        let guest = Guest(id: "g", name: "g", cpus: 1, memoryMiB: 1, hddGiB: nil, paravirtualized: false, ip: nil,
                          state: .started, domainType: "test")
        let before = cache.generation(uri: "test:///x")
        cache.invalidate(uri: "test:///x")  // a change ran while the read was in flight
        cache.store(guest, uri: "test:///x", id: "g", generation: before)
        #expect(cache.guest(uri: "test:///x", id: "g") == nil)
        cache.store(guest, uri: "test:///x", id: "g", generation: cache.generation(uri: "test:///x"))
        #expect(cache.guest(uri: "test:///x", id: "g") == guest)
        #expect(cache.guest(uri: "test:///other", id: "g") == nil)
    }
}
