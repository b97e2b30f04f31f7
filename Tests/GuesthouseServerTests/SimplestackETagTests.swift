import Foundation
import HTTPTypes
import Testing

/// Optimistic concurrency as Incus does it: GETs carry an `ETag`; changes with an `If-Match` that
/// no longer matches answer 412 and change nothing; `If-Match: *` and no header change as before.
@Suite struct SimplestackETagTests {
    let guest = "/test/localhost/guests/guest1"

    static func ifMatch(_ tag: String) -> HTTPFields { [.ifMatch: tag] }

    /// coreutils' sha256sum of `data`, in hex.
    static func sha256sum(_ data: Data) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(data)
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }

    @Test func aGuestsETagIsStableAndChangesWithTheGuest() async throws {
        try await SurfaceHarness.withTestDriver { c in
            // Stopped: a running guest's JSON shows its live memory, a change is for the next boot.
            #expect(try await c.put(guest + "/power", #"{"state": "force_stop"}"#).status == 200)
            let first = try await c.get(guest)
            let tag = try #require(first.headers[.eTag])
            #expect(tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count == 34)
            #expect(try await c.get(guest).headers[.eTag] == tag)
            // The tag is the SHA-256 of the body (first 128 bits), as sha256sum computes it.
            #expect(tag == "\"" + String(try Self.sha256sum(first.body).prefix(32)) + "\"")

            let updated = try await c.send(.put, guest, json: #"{"memory": 256}"#, headers: Self.ifMatch(tag))
            #expect(updated.status == 200)
            let newTag = try #require(try await c.get(guest).headers[.eTag])
            #expect(newTag != tag)

            // The stale tag: 412, and the guest is as the first update left it.
            let stale = try await c.send(.put, guest, json: #"{"memory": 128}"#, headers: Self.ifMatch(tag))
            #expect(stale.status == 412)
            #expect(stale.errorClass == "PreconditionFailed")
            #expect(stale.headers[.contentType] == "application/json")
            #expect(try await c.get(guest).object["memory"] as? Int == 256)
            let staleDelete = try await c.send(.delete, guest, headers: Self.ifMatch(tag))
            #expect(staleDelete.status == 412)
            let staleStart = try await c.send(.put, guest + "/power", json: #"{"state": "start"}"#,
                                              headers: Self.ifMatch(tag))
            #expect(staleStart.status == 412)
            let after = try await c.get(guest)
            #expect(after.status == 200)
            #expect(after.object["state"] as? String == "STOPPED")
            #expect(after.headers[.eTag] == newTag)

            // One of several tags matching is enough; `*` and no header are no precondition.
            let listed = try await c.send(.put, guest, json: #"{"memory": 384}"#,
                                          headers: Self.ifMatch("\"nope\", \(newTag)"))
            #expect(listed.status == 200)
            #expect(try await c.send(.put, guest, json: #"{"memory": 320}"#, headers: Self.ifMatch("*")).status == 200)
            #expect(try await c.put(guest, #"{"memory": 300}"#).status == 200)
            // A weak tag never matches (strong comparison).
            let current = try #require(try await c.get(guest).headers[.eTag])
            #expect(try await c.send(.put, guest, json: #"{"memory": 290}"#, headers: Self.ifMatch("W/" + current)).status == 412)
            #expect(try await c.get(guest).object["memory"] as? Int == 300)
        }
    }

    @Test func disksAndInterfacesHonourIfMatch() async throws {
        try await SurfaceHarness.withTestDriver { c in
            #expect(try await c.put(guest + "/power", #"{"state": "force_stop"}"#).status == 200)
            let disk = try await c.get(guest + "/disks/vda")
            let diskTag = try #require(disk.headers[.eTag])
            #expect(try await c.send(.put, guest + "/disks/vda", json: #"{"name": "renamed.qcow2"}"#,
                                     headers: Self.ifMatch(diskTag)).status == 200)
            let stale = try await c.send(.put, guest + "/disks/vda", json: #"{"name": "again.qcow2"}"#,
                                         headers: Self.ifMatch(diskTag))
            #expect(stale.status == 412)
            #expect(try await c.get(guest + "/disks/vda").object["name"] as? String == "renamed.qcow2")
            #expect(try await c.send(.delete, guest + "/disks/vda", headers: Self.ifMatch(diskTag)).status == 412)

            let nicPath = guest + "/network_interfaces/52:54:00:aa:bb:01"
            let nicTag = try #require(try await c.get(nicPath).headers[.eTag])
            #expect(try await c.put(nicPath, #"{"ratelimit": 125000}"#).status == 200)
            let staleDelete = try await c.send(.delete, nicPath, headers: Self.ifMatch(nicTag))
            #expect(staleDelete.status == 412)
            #expect(try await c.get(nicPath).object["rate_limit"] as? Int == 125000)
            // A resource that is gone fails the precondition too.
            let freshTag = try #require(try await c.get(nicPath).headers[.eTag])
            #expect(try await c.send(.delete, nicPath, headers: Self.ifMatch(freshTag)).status == 204)
            #expect(try await c.send(.delete, nicPath, headers: Self.ifMatch(freshTag)).status == 412)
        }
    }

    @Test func snapshotsHonourIfMatch() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let created = try await c.post(guest + "/snapshots", #"{"name": "s1"}"#)
            #expect(created.status == 201)
            let tag = try #require(try await c.get(guest + "/snapshots/s1").headers[.eTag])
            #expect(try await c.send(.delete, guest + "/snapshots/s1", headers: Self.ifMatch("\"0000\"")).status == 412)
            #expect(try await c.get(guest + "/snapshots/s1").status == 200)
            #expect(try await c.send(.delete, guest + "/snapshots/s1", headers: Self.ifMatch(tag)).status == 204)
        }
    }

    @Test func theOpenAPIDocumentNamesETagIfMatchAnd412() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let doc = try await c.get("/openapi.json").object
            let paths = doc["paths"] as? [String: Any] ?? [:]
            let guestOps = paths["/{hypervisor}/{host}/guests/{guest_id}"] as? [String: Any] ?? [:]
            let get = guestOps["get"] as? [String: Any] ?? [:]
            let ok = (get["responses"] as? [String: Any])?["200"] as? [String: Any] ?? [:]
            #expect((ok["headers"] as? [String: Any])?["ETag"] != nil)
            let put = guestOps["put"] as? [String: Any] ?? [:]
            #expect((put["responses"] as? [String: Any])?["412"] != nil)
            let parameters = put["parameters"] as? [[String: Any]] ?? []
            #expect(parameters.contains { $0["name"] as? String == "If-Match" && $0["in"] as? String == "header" })
        }
    }
}

@Suite struct VmangoETagTests {
    @Test func aStaleIfMatchOnAMachineIs412InVmangosShape() async throws {
        let server = try TestServer.vmango()
        try await server.run { client in
            let base = "/api/machines/LOCAL1/web-1/"
            let first = try await client.call(.get, base, headers: TestServer.vmangoAuth)
            let tag = try #require(first.headers[.eTag])
            #expect(try await client.call(.get, base, headers: TestServer.vmangoAuth).headers[.eTag] == tag)
            var stale = TestServer.vmangoAuth
            stale[.ifMatch] = "\"00000000000000000000000000000000\""
            let refused = try await client.call(.post, base + "stop/", headers: stale)
            #expect(refused.status == .preconditionFailed)
            #expect(!client.vmangoError(refused.json).isEmpty)
            let refusedDelete = try await client.call(.delete, base, headers: stale)
            #expect(refusedDelete.status == .preconditionFailed)
            let state = try await client.call(.get, base, headers: TestServer.vmangoAuth)
            #expect(object(object(state.json)["Machine"])["State"] as? String == "running")
            var current = TestServer.vmangoAuth
            current[.ifMatch] = tag
            #expect(try await client.call(.post, base + "reboot/", headers: current).status == .ok)
        }
    }
}
