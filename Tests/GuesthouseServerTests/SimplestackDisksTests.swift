import Foundation
import Testing

@Suite struct SimplestackDisksTests {
    let guest = "/test/localhost/guests/guest1"

    @Test func disksAreListedWithTheirSizes() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let list = try await c.get(guest + "/disks")
            #expect(list.status == 200)
            let disk = try #require(list.array.first as? [String: Any])
            #expect(disk["id"] as? String == "vda")
            #expect(disk["name"] as? String == "guest1-disk0.qcow2")
            #expect(disk["number"] as? Int == 0)
            #expect(disk["size"] as? Double == 2)
            #expect(disk["extra_info"] is [String: Any])
            #expect(try await c.get(guest + "/disks/vda").object["name"] as? String == "guest1-disk0.qcow2")
            #expect(try await c.get(guest + "/disks/vdz").errorClass == "EntityNotFound")
        }
    }

    @Test func attachingToARunningGuestWhereTheDriverCannotIsNotImplementedAndLeavesNoVolume() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let res = try await c.post(guest + "/disks", #"{"size": 1}"#)
            #expect(res.status == 501)
            #expect(res.errorClass == "FeatureNotImplemented")
            #expect(res.object["message"] as? String ?? "" != "")
            let storage = try await c.get("/test/localhost/storages/pool")
            #expect(storage.status == 200)
            // Still only the guest's disk and the ISO in the pool: the new volume was deleted.
            let again = try await c.put("/test/localhost/guests/guest1/power", #"{"state": "force_stop"}"#)
            #expect(again.status == 200)
            let created = try await c.post(guest + "/disks", #"{"size": 1}"#)
            #expect(created.object["name"] as? String == "guest1-disk1.qcow2")
        }
    }

    @Test func aStoppedGuestGetsResizesRenamesAndLosesDisks() async throws {
        try await SurfaceHarness.withTestDriver { c in
            #expect(try await c.put(guest + "/power", #"{"state": "force_stop"}"#).status == 200)
            let created = try await c.post(guest + "/disks", #"{"size": 1, "pool": "pool"}"#)
            #expect(created.status == 201)
            #expect(created.location == guest + "/disks/vdb")
            #expect(created.object["size"] as? Double == 1)
            #expect(try await c.get(guest + "/disks").array.count == 2)
            let shrink = try await c.put(guest + "/disks/vdb", #"{"size": 0}"#)
            #expect(shrink.status == 400)
            let smaller = try await c.put(guest + "/disks/vda", #"{"size": 1}"#)
            #expect(smaller.status == 409)
            #expect(smaller.errorClass == "OperationNotAllowed")
            let renamed = try await c.put(guest + "/disks/vdb", #"{"name": "data.qcow2"}"#)
            #expect(renamed.status == 200)
            #expect(renamed.object["name"] as? String == "data.qcow2")
            #expect(try await c.get(guest + "/disks/vdb").object["name"] as? String == "data.qcow2")
            #expect(try await c.delete(guest + "/disks/vdb").status == 204)
            #expect(try await c.get(guest + "/disks").array.count == 1)
            #expect(try await c.post(guest + "/disks", #"{"size": "x"}"#).status == 400)
            #expect(try await c.post(guest + "/disks", #"{"size": 1, "pool": "nope"}"#).status == 404)
        }
    }

    @Test func growingWhereTheDriverCannotResizeIsNotImplemented() async throws {
        try await SurfaceHarness.withTestDriver { c in
            #expect(try await c.put(guest + "/power", #"{"state": "force_stop"}"#).status == 200)
            let res = try await c.put(guest + "/disks/vda", #"{"size": 3}"#)
            #expect(res.status == 501)
            #expect(res.errorClass == "FeatureNotImplemented")
        }
    }
}
