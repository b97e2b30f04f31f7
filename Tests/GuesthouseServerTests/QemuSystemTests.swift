import Foundation
import GuesthouseConfig
import Hummingbird
import HummingbirdTesting
import Libvirt
import Testing

/// The guest lifecycle against real `qemu:///system` (domain type `qemu`, TCG). Needs libvirtd
/// running, as `scripts/test` and `.ci/run` arrange. Requests go through the router without a socket:
/// on a loaded host libvirtd can take longer than the live test client's fixed 20 s to define a guest. Guests have no disk image, no network and
/// no route off the machine; everything made here is removed, even on failure.
@Suite(.serialized) struct QemuSystemTests {
    static func server() throws -> TestServer {
        try TestServer { config in
            var kvm = FamilyConfig()
            kvm.domainType = "qemu"
            config.families["kvm"] = kvm
        }
    }

    /// Removes the domain and its pool, whatever state the test left them in.
    static func cleanUp(guest: String, pool: String? = nil) {
        guard let conn = try? Connection(uri: "qemu:///system") else { return }
        if let domain = try? conn.domain(name: guest) {
            try? domain.destroy()
            try? domain.undefine()
        }
        if let pool, let p = try? conn.storagePool(name: pool) {
            for volume in (try? p.volumes()) ?? [] { try? volume.delete() }
            try? p.destroyAndUndefine()
        }
    }

    @Test func aRealGuestGoesThroughItsWholeLifecycle() async throws {
        let name = "gh-test-\(UUID().uuidString.prefix(8).lowercased())"
        let poolName = name + "-pool"
        let poolPath = "/var/lib/guesthouse-tests/\(poolName)"
        defer {
            Self.cleanUp(guest: name, pool: poolName)
            try? FileManager.default.removeItem(atPath: poolPath)
        }
        let conn = try Connection(uri: "qemu:///system")
        try FileManager.default.createDirectory(atPath: poolPath, withIntermediateDirectories: true)
        _ = try conn.defineStoragePool(xml: """
            <pool type='dir'><name>\(poolName)</name><target><path>\(poolPath)</path></target></pool>
            """)
        try await Self.server().run(.router, operationTimeout: 600) { client in
            let base = "/kvm/localhost/guests"
            let created = try await client.call(.post, base, json: #"{"name": "\#(name)", "memory": 64, "cpus": 1, "hdd": 1, "storage": "\#(poolName)"}"#)
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(object(created.json)["id"] as? String)
            #expect(created.headers[.location] == "\(base)/\(id)")
            #expect(object(created.json)["type"] as? String == "qemu")
            #expect(object(created.json)["hdd"] as? Double == 1)
            let guest = "\(base)/\(id)"
            func state() async throws -> String? { object(try await client.call(.get, guest).json)["state"] as? String }
            func power(_ s: String) async throws -> (HTTPResponse.Status, String) {
                let r = try await client.call(.put, guest + "/power", json: #"{"state": "\#(s)"}"#)
                return (r.status, r.text)
            }
            let update = try await client.call(.put, guest, json: #"{"memory": 96, "cpus": 2}"#)
            #expect(update.status == .ok)
            #expect(object(update.json)["memory"] as? Int == 96 && object(update.json)["cpus"] as? Int == 2)
            #expect(try await power("start").0 == .ok)
            #expect(try await state() == "STARTED")
            let again = try await power("start")
            #expect(again.0 == .conflict, "\(again.1)")
            #expect(try await power("pause").0 == .ok)
            #expect(try await state() == "PAUSED")
            #expect(try await power("resume").0 == .ok)
            #expect(try await state() == "STARTED")
            #expect(try await client.call(.put, guest + "/reboot", json: #"{"force": true}"#).status == .ok)
            #expect(try await power("force_stop").0 == .ok)
            #expect(try await state() == "STOPPED")
            #expect(try await power("stop").0 == .conflict)
            let listed = list(try await client.call(.get, base).json).contains { $0["id"] as? String == id }
            #expect(listed)
            #expect(try await client.call(.delete, guest).status == .noContent)
            #expect(try await client.call(.get, guest).status == .notFound)
            let volumes = try conn.storagePool(name: poolName).volumes().map(\.name)
            #expect(volumes.isEmpty, "the guest's disk outlived it: \(volumes)")
            let pool = object(try await client.call(.get, "/kvm/localhost").json)
            #expect((pool["total_memory"] as? Int ?? 0) > 0)
            #expect((pool["software_info"] as? [String: Any])?["hypervisor"] as? String == "QEMU")
        }
    }

    @Test func errorsOnARealHostAreTheSameAsOnTheTestDriver() async throws {
        try await Self.server().run { client in
            let missing = try await client.call(.get, "/kvm/localhost/guests/00000000-0000-4000-8000-00000000abcd")
            #expect(missing.status == .notFound)
            #expect(object(missing.json)["error"] as? String == "EntityNotFound")
            let bad = try await client.call(.post, "/kvm/localhost/guests", json: "{")
            #expect(bad.status == .badRequest)
            let unknown = try await client.call(.put, "/kvm/localhost/guests/x/power", json: #"{"state": "fly"}"#)
            #expect(unknown.status == .badRequest || unknown.status == .notFound)
        }
    }
}
