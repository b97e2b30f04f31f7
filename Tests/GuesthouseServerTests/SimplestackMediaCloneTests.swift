import Foundation
import Testing

@Suite struct SimplestackMediaCloneTests {
    let guest = "/test/localhost/guests/guest1"

    @Test func anISOIsMountedAndEjected() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let empty = try await c.get(guest + "/media_device")
            #expect(empty.status == 200)
            #expect(empty.object["name"] is NSNull)
            #expect(try await c.put(guest + "/power", #"{"state": "force_stop"}"#).status == 200)
            let mounted = try await c.put(guest + "/media_device", #"{"name": "install.iso"}"#)
            #expect(mounted.status == 200)
            #expect(mounted.object["name"] as? String == "install.iso")
            #expect(try await c.get(guest + "/media_device").object["name"] as? String == "install.iso")
            #expect(try await c.put(guest + "/media_device", #"{"name": "nope.iso"}"#).status == 404)
            let ejected = try await c.put(guest + "/media_device", #"{"name": null}"#)
            #expect(ejected.object["name"] is NSNull)
            #expect(try await c.get(guest + "/media_device").object["name"] is NSNull)
            // The ISO is no disk of the guest.
            #expect(try await c.get(guest + "/disks").array.count == 1)
            #expect(try await c.put(guest + "/media_device", "{}").status == 400)
        }
    }

    @Test func aCloneGetsItsOwnDisks() async throws {
        try await SurfaceHarness.withTestDriver { c in
            #expect(try await c.post(guest + "/clone", #"{"name": "copy"}"#).status == 409)
            #expect(try await c.put(guest + "/power", #"{"state": "force_stop"}"#).status == 200)
            let clone = try await c.post(guest + "/clone", #"{"name": "copy"}"#)
            #expect(clone.status == 201)
            let id = try #require(clone.object["id"] as? String)
            #expect(id != "11111111-2222-3333-4444-555555555555")
            #expect(clone.location == "/test/localhost/guests/" + id)
            #expect(clone.object["name"] as? String == "copy")
            let disk = try #require(try await c.get("/test/localhost/guests/copy/disks").array.first as? [String: Any])
            #expect(disk["name"] as? String == "copy-disk0.qcow2")
            #expect(disk["size"] as? Double == 2)
            let nics = try await c.get("/test/localhost/guests/copy/network_interfaces").array
            #expect((nics.first as? [String: Any])?["id"] as? String != "52:54:00:aa:bb:01")
            #expect(try await c.post(guest + "/clone", #"{"name": "copy"}"#).status == 409)
            #expect(try await c.post(guest + "/clone", #"{"name": "bad name"}"#).status == 400)
        }
    }

    @Test func paravirtualizedReadsBackAsSet() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let running = try await c.put(guest, #"{"paravirtualized": false}"#)
            #expect(running.status == 409)
            #expect(try await c.put(guest + "/power", #"{"state": "force_stop"}"#).status == 200)
            let off = try await c.put(guest, #"{"paravirtualized": false}"#)
            #expect(off.status == 200)
            #expect(off.object["paravirtualized"] as? Bool == false)
            #expect(try await c.get(guest).object["paravirtualized"] as? Bool == false)
            let on = try await c.put(guest, #"{"paravirtualized": true}"#)
            #expect(on.object["paravirtualized"] as? Bool == true)
            #expect(try await c.get(guest + "/disks").array.count == 1)
        }
    }

    /// A well-formed size that the disk's present size refuses: a 409, not a 400 (schemathesis's
    /// "schema-valid request rejected" found the 400 once a fuzz case had grown a disk).
    @Test func shrinkingTheHddIsAConflict() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let res = try await c.put(guest, #"{"hdd": 1}"#)
            #expect(res.status == 409)
            #expect(res.errorClass == "OperationNotAllowed")
            #expect(res.text.contains("shrinking a disk is not supported"))
            #expect(try await c.put(guest, #"{"hdd": 2}"#).status == 200)
        }
    }

    @Test func everyNewRouteIsInTheOpenAPIDocument() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let doc = try await c.get("/openapi.json").text
            for path in ["/{hypervisor}/{host}/guests/{guest_id}/tags/{tag_name}",
                         "/{hypervisor}/{host}/guests/{guest_id}/snapshots/{snapshot_id}/revert",
                         "/{hypervisor}/{host}/guests/{guest_id}/disks/{disk_id}",
                         "/{hypervisor}/{host}/guests/{guest_id}/network_interfaces/{interface_id}",
                         "/{hypervisor}/{host}/networks/{network_id}",
                         "/{hypervisor}/{host}/guests/{guest_id}/media_device",
                         "/{hypervisor}/{host}/guests/{guest_id}/clone"] {
                #expect(doc.contains(path.replacingOccurrences(of: "/", with: "\\/")) || doc.contains(path), "\(path)")
            }
        }
    }
}
