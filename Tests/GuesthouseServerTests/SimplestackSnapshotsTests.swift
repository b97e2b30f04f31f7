import Foundation
import Testing

@Suite struct SimplestackSnapshotsTests {
    let guest = "/test/localhost/guests/guest1"

    @Test func snapshotsAreTakenListedRevertedAndDeleted() async throws {
        try await SurfaceHarness.withTestDriver { c in
            #expect(try await c.get(guest + "/snapshots").array.isEmpty)
            let created = try await c.post(guest + "/snapshots", #"{"name": "before"}"#)
            #expect(created.status == 201)
            #expect(created.location == guest + "/snapshots/before")
            #expect(created.object["id"] as? String == "before")
            #expect(created.object["state"] as? String == "running")
            #expect(created.object["created"] is String)
            #expect(created.object.keys.contains("path"))
            let info = try await c.get(guest + "/snapshots/before")
            #expect(info.object["name"] as? String == "before")
            #expect(try await c.get(guest + "/snapshots").array.count == 1)
            let reverted = try await c.put(guest + "/snapshots/before/revert", "")
            #expect(reverted.status == 200)
            #expect(try await c.delete(guest + "/snapshots/before").status == 204)
            #expect(try await c.get(guest + "/snapshots/before").status == 404)
        }
    }

    @Test func snapshotsOfAStoppedGuest() async throws {
        try await SurfaceHarness.withTestDriver { c in
            _ = try await c.put(guest + "/power", #"{"state": "force_stop"}"#)
            let created = try await c.post(guest + "/snapshots", #"{"name": "cold"}"#)
            #expect(created.status == 201)
            #expect(created.object["state"] as? String == "shutoff")
        }
    }

    @Test func aTakenNameIsAConflictAndUnknownSnapshotsAreNotFound() async throws {
        try await SurfaceHarness.withTestDriver { c in
            #expect(try await c.post(guest + "/snapshots", #"{"name": "a"}"#).status == 201)
            let again = try await c.post(guest + "/snapshots", #"{"name": "a"}"#)
            #expect(again.status == 409)
            #expect(again.errorClass == "OperationNotAllowed")
            #expect(try await c.put(guest + "/snapshots/zz/revert", "").status == 404)
            #expect(try await c.delete(guest + "/snapshots/zz").errorClass == "EntityNotFound")
            #expect(try await c.post(guest + "/snapshots", #"{"name": "bad/name"}"#).status == 400)
        }
    }
}
