import Foundation
import Testing

/// The Simplestack surface on real qemu:///system (domain type qemu, scratch pool, no networks started).
@Suite(.serialized) struct SimplestackQemuSurfaceTests {
    @Test func aStoppedGuestsDisksSnapshotsMediaNICsAndClone() async throws {
        try await QemuScratch.with { s, c in
            let name = s.prefix + "-a"
            let spec = #"{"name": "\#(name)", "memory": 64, "cpus": 1, "hdd": 1, "storage": "\#(s.pool)", "paravirtualized": true}"#
            let created = try await c.post("/kvm/localhost/guests", spec)
            #expect(created.status == 201)
            let g = "/kvm/localhost/guests/" + (created.object["id"] as? String ?? name)

            // Disks
            let disk = try await c.post(g + "/disks", #"{"size": 1}"#)
            #expect(disk.status == 201)
            #expect(disk.location == g + "/disks/vdb")
            #expect(try s.volumes().contains(name + "-disk1.qcow2"))
            let grown = try await c.put(g + "/disks/vdb", #"{"size": 2}"#)
            #expect(grown.object["size"] as? Double == 2)
            #expect(try await c.put(g + "/disks/vdb", #"{"size": 1}"#).status == 409)  // shrinking
            #expect(try await c.delete(g + "/disks/vdb").status == 204)
            #expect(!(try s.volumes().contains(name + "-disk1.qcow2")))

            // hdd and paravirtualized read back as set
            let hdd = try await c.put(g, #"{"hdd": 2}"#)
            #expect(hdd.object["hdd"] as? Double == 2)
            #expect(try await c.put(g, #"{"hdd": 1}"#).status == 409)  // shrinking
            #expect(try await c.put(g, #"{"paravirtualized": false}"#).object["paravirtualized"] as? Bool == false)
            #expect(try await c.put(g, #"{"paravirtualized": true}"#).object["paravirtualized"] as? Bool == true)

            // Snapshots of a stopped guest with qcow2 disks
            let snap = try await c.post(g + "/snapshots", #"{"name": "cold"}"#)
            #expect(snap.status == 201)
            #expect(snap.object["state"] as? String == "shutoff")
            #expect(try await c.put(g + "/snapshots/cold/revert", "").status == 200)
            #expect(try await c.delete(g + "/snapshots/cold").status == 204)

            // Media
            try s.makeVolume(name: name + ".iso", bytes: 1 << 20)
            let mounted = try await c.put(g + "/media_device", #"{"name": "\#(name).iso"}"#)
            #expect(mounted.status == 200)
            #expect(mounted.object["name"] as? String == name + ".iso")
            #expect(try await c.put(g + "/media_device", #"{"name": null}"#).object["name"] is NSNull)

            // NICs (the default network is only named, never started)
            let nic = try await c.post(g + "/network_interfaces", #"{"network": "default"}"#)
            #expect(nic.status == 201)
            let mac = nic.object["id"] as? String ?? ""
            let limited = try await c.put(g + "/network_interfaces/" + mac, #"{"ratelimit": 125000}"#)
            #expect(limited.object["rate_limit"] as? Int == 125000)
            #expect(try await c.delete(g + "/network_interfaces/" + mac).status == 204)

            // Tags
            #expect(try await c.post(g + "/tags", #"{"name": "qemu"}"#).array as? [String] == ["qemu"])

            // Clone
            let clone = try await c.post(g + "/clone", #"{"name": "\#(name)-clone"}"#)
            #expect(clone.status == 201)
            #expect(try s.volumes().contains(name + "-clone-disk0.qcow2"))
            let cloneDisks = try await c.get("/kvm/localhost/guests/\(name)-clone/disks").array
            #expect((cloneDisks.first as? [String: Any])?["size"] as? Double == 2)
            #expect(try await c.delete("/kvm/localhost/guests/\(name)-clone").status == 204)
            #expect(try await c.delete(g).status == 204)
        }
    }

    @Test func aRunningGuestGetsDisksResizesSnapshotsAndMedia() async throws {
        try await QemuScratch.with { s, c in
            let name = s.prefix + "-b"
            let spec = #"{"name": "\#(name)", "memory": 64, "cpus": 1, "hdd": 1, "storage": "\#(s.pool)", "paravirtualized": true}"#
            let created = try await c.post("/kvm/localhost/guests", spec)
            #expect(created.status == 201)
            let g = "/kvm/localhost/guests/" + (created.object["id"] as? String ?? name)
            try s.makeVolume(name: name + ".iso", bytes: 1 << 20)
            #expect(try await c.put(g + "/media_device", #"{"name": "\#(name).iso"}"#).status == 200)
            #expect(try await c.put(g + "/power", #"{"state": "start"}"#).status == 200)

            // The live media change runs on the paused guest: its firmware (SeaBIOS probing the drive
            // right after a start) cannot close the tray between QEMU's steps then. The server
            // forces the tray and retries for guests that do (see docs/simplestack-notes.md).
            #expect(try await c.put(g + "/power", #"{"state": "pause"}"#).status == 200)
            let ejected = try await c.put(g + "/media_device", #"{"name": null}"#)
            #expect(ejected.status == 200)
            #expect(ejected.object["name"] is NSNull)
            let inserted = try await c.put(g + "/media_device", #"{"name": "\#(name).iso"}"#)
            #expect(inserted.object["name"] as? String == name + ".iso", "\(inserted.status) \(inserted.object)")
            #expect(try await c.put(g + "/power", #"{"state": "resume"}"#).status == 200)

            let disk = try await c.post(g + "/disks", #"{"size": 1}"#)
            #expect(disk.status == 201)
            let grown = try await c.put(g + "/disks/vdb", #"{"size": 2}"#)
            #expect(grown.object["size"] as? Double == 2)
            #expect(try await c.put(g, #"{"paravirtualized": false}"#).status == 409)

            let snap = try await c.post(g + "/snapshots", #"{"name": "hot"}"#)
            #expect(snap.status == 201)
            #expect(snap.object["state"] as? String == "running")
            #expect(try await c.put(g + "/snapshots/hot/revert", "").status == 200)
            #expect(try await c.delete(g + "/snapshots/hot").status == 204)

            #expect(try await c.delete(g).status == 204)
        }
    }
}

extension SimplestackQemuSurfaceTests {
    static func sha256(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
    }
}

@Suite(.serialized) struct SimplestackQemuExportTests {
    @Test func exportThenImportGivesEqualDisks() async throws {
        try await QemuScratch.with { s, c in
            let name = s.prefix + "-x"
            let dir = "/var/lib/guesthouse-tests/\(s.pool)/"
            let spec = #"{"name": "\#(name)", "memory": 64, "cpus": 1, "hdd": 1, "storage": "\#(s.pool)"}"#
            let created = try await c.post("/kvm/localhost/guests", spec)
            #expect(created.status == 201)
            let g = "/kvm/localhost/guests/" + (created.object["id"] as? String ?? name)
            #expect(try await c.post(g + "/disks", #"{"size": 1}"#).status == 201)
            // Some content in both disks.
            try SimplestackQemuSurfaceTests.run("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0xab 0 256k", dir + name + "-disk0.qcow2"])
            try SimplestackQemuSurfaceTests.run("/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -P 0xcd 1M 64k", dir + name + "-disk1.qcow2"])
            let before = [try SimplestackQemuSurfaceTests.sha256(dir + name + "-disk0.qcow2"),
                          try SimplestackQemuSurfaceTests.sha256(dir + name + "-disk1.qcow2")]

            let export = try await c.get(g + "/export")
            #expect(export.status == 200)
            #expect(export.headers[.contentType] == "application/x-tar")
            #expect(export.headers[.contentLength] == String(export.body.count))
            #expect(try await c.delete(g).status == 204)
            #expect(try s.volumes().isEmpty)

            // A truncated archive leaves nothing behind.
            let truncated = try await c.send(.post, "/kvm/localhost/storages/\(s.pool)/guests", bytes: export.body.prefix(export.body.count - 2048))
            #expect(truncated.status == 400)
            #expect(try s.volumes().isEmpty)
            #expect(try await c.get("/kvm/localhost/guests/" + name).status == 404)

            let imported = try await c.send(.post, "/kvm/localhost/storages/\(s.pool)/guests", bytes: export.body)
            #expect(imported.status == 201)
            #expect(imported.location?.hasPrefix("/kvm/localhost/guests/") == true)
            #expect(imported.object["name"] as? String == name)
            let after = [try SimplestackQemuSurfaceTests.sha256(dir + name + "-disk0.qcow2"),
                         try SimplestackQemuSurfaceTests.sha256(dir + name + "-disk1.qcow2")]
            #expect(before == after)
            #expect(try await c.get("/kvm/localhost/guests/\(name)/disks").array.count == 2)
        }
    }
}
