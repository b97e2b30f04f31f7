import Foundation
import GuesthouseCore
import GuesthouseLibvirt
import HummingbirdTesting
import Libvirt
import Testing

/// The view of each host kept by libvirt's events, and the event stream, on the test driver.
@Suite struct EventViewTests {
    static let auth = [("x-simplestack-hypervisor-token", TestServer.token)]
    static let buildBox = "6f1e8f2a-0000-4000-8000-000000000002"

    @Test func eventsWithoutCredentialsAre401() async throws {
        try await TestServer().run { client in
            let res = try await client.call(.get, "/test/localhost/events", headers: [:])
            #expect(res.status == .unauthorized)
            #expect(object(res.json)["error"] as? String == "Unauthorized")
            let wrong = try await client.call(.get, "/test/localhost/events",
                                              headers: [.init("x-simplestack-hypervisor-token")!: Data("admin:nope".utf8).base64EncodedString()])
            #expect(wrong.status == .unauthorized)
        }
    }

    @Test func anUnknownEventTypeIsABadRequest() async throws {
        try await TestServer().run { client in
            let res = try await client.call(.get, "/test/localhost/events?type=guest,weather")
            #expect(res.status == .badRequest)
            #expect((object(res.json)["message"] as? String)?.contains("weather") == true)
        }
    }

    @Test func aChangeThroughTheAPIReadsBackAtOnce() async throws {
        try await TestServer().run { client in
            // Read first, so the view holds the guest before it changes.
            let before = try await client.call(.get, "/test/localhost/guests/\(Self.buildBox)")
            #expect(object(before.json)["memory"] as? Int == 512)
            let put = try await client.call(.put, "/test/localhost/guests/\(Self.buildBox)", json: #"{"memory": 768, "cpus": 3}"#)
            #expect(put.status == .ok)
            let after = object(try await client.call(.get, "/test/localhost/guests/\(Self.buildBox)").json)
            #expect(after["memory"] as? Int == 768)
            #expect(after["cpus"] as? Int == 3)

            let power = try await client.call(.put, "/test/localhost/guests/\(Self.buildBox)/power", json: #"{"state": "start"}"#)
            #expect(power.status == .ok)
            let listed = list(try await client.call(.get, "/test/localhost/guests").json)
            #expect(listed.first { $0["id"] as? String == Self.buildBox }?["state"] as? String == "STARTED")

            let created = try await client.call(.post, "/test/localhost/guests", json: #"{"name": "fresh-1", "memory": 256}"#)
            #expect(created.status == .created)
            let id = try #require(object(created.json)["id"] as? String)
            #expect(list(try await client.call(.get, "/test/localhost/guests").json).contains { $0["id"] as? String == id })
            #expect(try await client.call(.delete, "/test/localhost/guests/\(id)").status == .noContent)
            #expect(!list(try await client.call(.get, "/test/localhost/guests").json).contains { $0["id"] as? String == id })
            #expect(try await client.call(.get, "/test/localhost/guests/\(id)").status == .notFound)
        }
    }

    @Test func aChangeMadeOutsideTheServerShowsOnTheStreamAndInTheList() async throws {
        let server = try TestServer()
        try await server.run { client in
            let port = try #require(client.port)
            let stream = try await EventStreamClient.open(port: port, path: "/test/localhost/events", headers: Self.auth)
            defer { stream.close() }
            #expect(stream.status == 200)
            #expect(stream.contentType.hasPrefix("text/event-stream"))
            // "Elsewhere": straight through libvirt on the server's own connection, bypassing its API.
            let conn = try await server.pool.connection(uri: server.uri)
            try conn.domain(uuid: Self.buildBox).start()
            let started = try await stream.event(within: .seconds(1), "build-box started") {
                $0["id"] == Self.buildBox && $0["action"] == "started"
            }
            #expect(started == ["type": "guest", "action": "started", "id": Self.buildBox, "name": "build-box",
                                "state": "STARTED"])
            let info = object(try await client.call(.get, "/test/localhost/guests/\(Self.buildBox)").json)
            #expect(info["state"] as? String == "STARTED")

            try conn.domain(uuid: Self.buildBox).suspend()
            _ = try await stream.event(within: .seconds(1), "build-box paused") { $0["action"] == "paused" && $0["state"] == "PAUSED" }
            #expect(object(try await client.call(.get, "/test/localhost/guests/\(Self.buildBox)").json)["state"] as? String == "PAUSED")
        }
    }

    @Test func theGuestFilterPassesOnlyThatGuest() async throws {
        let server = try TestServer()
        try await server.run { client in
            let port = try #require(client.port)
            let stream = try await EventStreamClient.open(port: port, path: "/test/localhost/events?guest=build-box&type=guest",
                                                          headers: Self.auth)
            defer { stream.close() }
            let web1 = "6f1e8f2a-0000-4000-8000-000000000000"
            #expect(try await client.call(.put, "/test/localhost/guests/\(web1)/power", json: #"{"state": "pause"}"#).status == .ok)
            #expect(try await client.call(.put, "/test/localhost/guests/\(Self.buildBox)/power", json: #"{"state": "start"}"#).status == .ok)
            _ = try await stream.event(within: .seconds(1), "build-box started") { $0["name"] == "build-box" && $0["action"] == "started" }
            let all = await stream.received()
            #expect(!all.isEmpty)
            #expect(all.allSatisfy { $0["name"] == "build-box" })
        }
    }

    @Test func afterAReconnectTheViewIsRebuiltAndTheStreamSaysSo() async throws {
        let server = try TestServer()
        try await server.run(eventHeartbeat: .milliseconds(200)) { client in
            let port = try #require(client.port)
            // A guest that exists only in this connection's memory: the test driver reloads its node
            // file on every open, so after a reconnect the guest has vanished.
            let created = try await client.call(.post, "/test/localhost/guests", json: #"{"name": "ephemeral", "memory": 256}"#)
            let id = try #require(object(created.json)["id"] as? String)
            let stream = try await EventStreamClient.open(port: port, path: "/test/localhost/events", headers: Self.auth)
            defer { stream.close() }

            server.pool.evict(uri: server.uri)

            _ = try await stream.event(within: .seconds(5), "reconnected") { $0["type"] == "host" && $0["action"] == "reconnected" }
            let deleted = try await stream.event(within: .seconds(1), "ephemeral deleted") { $0["id"] == id }
            #expect(deleted["action"] == "deleted")
            let names = list(try await client.call(.get, "/test/localhost/guests").json).compactMap { $0["name"] as? String }
            #expect(names == ["build-box", "db-1", "web-1"])
            // The stream goes on: a change after the reconnect still arrives, and so do heartbeats.
            #expect(try await client.call(.put, "/test/localhost/guests/\(Self.buildBox)/power", json: #"{"state": "start"}"#).status == .ok)
            _ = try await stream.event(within: .seconds(1), "build-box started after the reconnect") {
                $0["id"] == Self.buildBox && $0["action"] == "started"
            }
            try await stream.comment(containing: "heartbeat", within: .seconds(2))
        }
    }

    @Test func aSlowSubscriberIsCutOffAndOthersGoOn() async throws {
        let server = try TestServer()
        try await server.run { client in
            _ = try await client.call(.get, "/test/localhost/guests")
            let view = server.pool.view(uri: server.uri)
            let slow = view.events()  // never read while the changes happen
            let conn = try await server.pool.connection(uri: server.uri)
            let port = try #require(client.port)
            let stream = try await EventStreamClient.open(port: port, path: "/test/localhost/events?type=guest", headers: Self.auth)
            defer { stream.close() }
            // More changes than a subscriber may have unread, in bursts the reader that keeps up
            // takes one at a time.
            let chunks = 4, perChunk = HostView.subscriberBuffer / 8 + 10
            let rounds = chunks * perChunk
            for chunk in 1...chunks {
                for _ in 0..<perChunk {
                    let domain = try conn.domain(uuid: Self.buildBox)
                    try domain.start()
                    try domain.destroy()
                }
                _ = try await stream.received(atLeast: 2 * chunk * perChunk, within: .seconds(10))
            }
            try conn.domain(name: "web-1").suspend()
            _ = try await stream.event(within: .seconds(10), "web-1 paused after the burst") {
                $0["name"] == "web-1" && $0["action"] == "paused"
            }
            // The reader that kept up got every change.
            #expect(await stream.received().filter { $0["name"] == "build-box" }.count == 2 * rounds)
            // The slow one got at most its buffer and was then ended (its loop finishes).
            let count = await withTaskGroup(of: Int?.self) { group in
                group.addTask {
                    var count = 0
                    for await _ in slow { count += 1 }
                    return Task.isCancelled ? nil : count
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(5))  // a deadline, not a synchronisation
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            let received = try #require(count, "the slow subscriber was not cut off")
            #expect(received <= HostView.subscriberBuffer)
            #expect(view.subscriberCount == 1)
        }
    }
}
