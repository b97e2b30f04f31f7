import Foundation
import GuesthouseCore
import Testing

/// An archive as an export writes it, built by hand.
func handmadeArchive(name: String, diskBytes: [UInt8], declaredDiskSize: UInt64? = nil) -> Data {
    let manifest = #"{"format": 1, "name": "\#(name)", "disks": [{"target": "vda", "file": "disks/vda.raw", "format": "raw", "capacity": 1073741824, "size": \#(declaredDiskSize ?? UInt64(diskBytes.count))}]}"#
    let domain = "<domain type='test'><name>\(name)</name><memory unit='MiB'>64</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'><source file='/x'/><target dev='vda' bus='virtio'/></disk></devices></domain>"
    var out: [UInt8] = []
    for (entry, bytes) in [("guesthouse.json", Array(manifest.utf8)), ("domain.xml", Array(domain.utf8)), ("disks/vda.raw", diskBytes)] {
        out += TarMember.small(name: entry, bytes: bytes)
    }
    return Data(out + Tar.trailer)
}

@Suite struct SimplestackExportTests {
    let guest = "/test/localhost/guests/guest1"

    @Test func exportingWhereTheDriverCannotStreamVolumesIsNotImplemented() async throws {
        try await SurfaceHarness.withTestDriver { c in
            #expect(try await c.get(guest + "/export").status == 409)  // running
            #expect(try await c.put(guest + "/power", #"{"state": "force_stop"}"#).status == 200)
            let res = try await c.get(guest + "/export")
            #expect(res.status == 501)
            #expect(res.errorClass == "FeatureNotImplemented")
        }
    }

    @Test func anImportThatCannotUploadLeavesNothingBehind() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let archive = handmadeArchive(name: "imported", diskBytes: Array(repeating: 7, count: 1000))
            // Labelled JSON, as the clients send it: told apart by its bytes.
            let res = try await c.send(.post, "/test/localhost/guests", bytes: archive)
            #expect(res.status == 501)
            #expect(try await c.get("/test/localhost/guests/imported").status == 404)
            let storage = try await c.get("/test/localhost/storages/pool")
            #expect(storage.status == 200)
        }
    }

    @Test func truncatedOrCorruptArchivesAreInvalid() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let archive = handmadeArchive(name: "imported", diskBytes: Array(repeating: 7, count: 1000))
            let truncated = try await c.send(.post, "/test/localhost/storages/pool/guests", bytes: archive.prefix(700))
            #expect(truncated.status == 400)
            #expect(truncated.errorClass == "InvalidArguments")
            var corrupt = archive
            corrupt[10] ^= 0xFF
            let bad = try await c.send(.post, "/test/localhost/guests", bytes: corrupt)
            #expect(bad.status == 400)
            #expect(try await c.get("/test/localhost/guests/imported").status == 404)
        }
    }
}
