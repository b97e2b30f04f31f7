import Foundation
import GuesthouseConfig
import GuesthouseCore
@testable import GuesthouseLibvirt
import Hummingbird
import HummingbirdTesting
import Libvirt
import Testing

/// Where clients found the contract broken, on the test driver: host ids, full pools, missing
/// driver families, the stop timeout's validation and the one mapping of libvirt's states.
struct ContractTests {
    static let stoppedGuest = "/test/localhost/guests/6f1e8f2a-0000-4000-8000-000000000002"  // build-box

    /// A guest id is a UUID with or without dashes, in either case, or a name; a token may carry
    /// blanks around it (both parsed by hand on the guest-info route).
    @Test func guestIdsAndTokensAreReadAsBefore() async throws {
        try await TestServer().run { client in
            let id = "6f1e8f2a-0000-4000-8000-000000000002"
            for spelling in [id, id.uppercased(), id.replacingOccurrences(of: "-", with: ""),
                             id.replacingOccurrences(of: "-", with: "").uppercased(), "build-box"] {
                let res = try await client.call(.get, "/test/localhost/guests/\(spelling)")
                #expect(res.status == .ok, "\(spelling)")
                #expect(object(res.json)["id"] as? String == id, "\(spelling)")
            }
            for wrong in ["6f1e8f2a-0000-4000-8000-00000000000g", "6f1e8f2a0000-4000-8000-0000000000020",
                          "6f1e8f2a-0000-4000-8000-000000000009"] {
                #expect(try await client.call(.get, "/test/localhost/guests/\(wrong)").status == .notFound, "\(wrong)")
            }
            let padded: HTTPFields = [.init("x-simplestack-hypervisor-token")!: " \t" + TestServer.token + " "]
            #expect(try await client.call(.get, "/test/localhost/guests/\(id)", headers: padded).status == .ok)
            let notBase64: HTTPFields = [.init("x-simplestack-hypervisor-token")!: "!!" + TestServer.token]
            #expect(try await client.call(.get, "/test/localhost/guests/\(id)", headers: notBase64).status == .unauthorized)
        }
    }

    @Test func hostIdsAreNeverEmptyAndFindTheHost() async throws {
        try await TestServer().run { client in
            let hosts = list(try await client.call(.get, "/test/localhost/hosts").json)
            #expect(hosts.count == 1)
            let id = try #require(hosts.first?["id"] as? String)
            #expect(UUID(uuidString: id) != nil, "host id '\(id)' is not a UUID")
            // Stable: the same on the next read, and the pool's uuid.
            #expect(list(try await client.call(.get, "/test/localhost/hosts").json).first?["id"] as? String == id)
            #expect(object(try await client.call(.get, "/test/localhost").json)["uuid"] as? String == id)
            let one = try await client.call(.get, "/test/localhost/hosts/\(id)")
            #expect(one.status == .ok)
            #expect(object(one.json)["id"] as? String == id)
            let unknown = try await client.call(.get, "/test/localhost/hosts/00000000-0000-4000-8000-00000000dead")
            #expect(unknown.status == .notFound)
            #expect(object(unknown.json)["error"] as? String == "EntityNotFound")
        }
    }

    @Test func nameBasedHostIdsAreVersion5UUIDs() {
        // RFC 9562's DNS namespace, as Python's uuid.uuid5(NAMESPACE_DNS, "www.example.com") gives it.
        #expect(HostID.nameBased("www.example.com") == "2ed6657d-e927-568b-95e1-2665a8aea6a2")
        #expect(HostID.valid("00000000-0000-0000-0000-000000000000") == nil)
        #expect(HostID.valid("") == nil)
    }

    @Test func aGuestCreateBeyondThePoolsRoomIsAConflictNamingIt() async throws {
        let server = try TestServer()
        try await server.run { client in
            let before = try await server.leftovers()
            let free = try await server.connection().storagePool(name: "default").info().available
            let r = try await client.call(.post, "/test/localhost/guests",
                                          json: #"{"name": "too-big", "hdd": \#((free >> 30) + 1)}"#)
            #expect(r.status == .conflict, "\(r.text)")
            #expect(object(r.json)["error"] as? String == "OperationNotAllowed")
            let message = object(r.json)["message"] as? String ?? ""
            for part in ["'default'", PoolRoom.size(free), "hdd asks for \((free >> 30) + 1) GiB"] {
                #expect(message.contains(part), "\(message)")
            }
            #expect(list(try await client.call(.get, "/test/localhost/guests").json).count == 3)
            #expect(try await server.leftovers().volumes == before.volumes)
        }
    }

    @Test func aDiskBeyondThePoolsRoomIsAConflictNamingIt() async throws {
        let server = try TestServer()
        try await server.run { client in
            let disks = list(try await client.call(.get, Self.stoppedGuest + "/disks").json).count
            let before = try await server.leftovers()
            let free = try await server.connection().storagePool(name: "default").info().available
            let r = try await client.call(.post, Self.stoppedGuest + "/disks",
                                          json: #"{"size": \#((free >> 30) + 1), "pool": "default"}"#)
            #expect(r.status == .conflict, "\(r.text)")
            #expect(object(r.json)["error"] as? String == "OperationNotAllowed")
            let message = object(r.json)["message"] as? String ?? ""
            for part in ["'default'", PoolRoom.size(free), "the disk asks for \((free >> 30) + 1) GiB"] {
                #expect(message.contains(part), "\(message)")
            }
            #expect(list(try await client.call(.get, Self.stoppedGuest + "/disks").json).count == disks)
            #expect(try await server.leftovers().volumes == before.volumes)
        }
    }

    @Test func libvirtsOwnOutOfSpaceIsRecognised() {
        let error = LibvirtError(code: 1, domain: 0, message: "operation failed: Not enough free space in pool for volume 'x'")
        #expect(PoolRoom.isOutOfSpace(error))
        #expect(!PoolRoom.isOutOfSpace(LibvirtError(code: 1, domain: 0, message: "volume exists")))
        #expect(PoolRoom.size(1_610_612_736) == "1.5 GiB (1610612736 bytes)")
        // Wherever else libvirt runs out of space (a clone, an import), it is a 409 too.
        let mapped = LibvirtErrorMapping.map(error, operation: "guest clone") as? GuesthouseError
        #expect(mapped?.kind == .operationNotAllowed)
    }

    /// xen: no daemon driver here (its package named); hyperv: Debian's libvirt is built without it.
    @Test(arguments: [("/xen/localhost/guests", ["xen family", "libvirt-daemon-driver-xen"]),
                      ("/hyperv/hv1.example.com/guests", ["hyperv family", "built without"])])
    func aFamilyWhoseDriverIsMissingIsNotImplemented(_ path: String, _ fragments: [String]) async throws {
        try await TestServer(configure: { $0.simplestack.hosts = ["localhost", "hv1.example.com"] }).run { client in
            let r = try await client.call(.get, path)
            #expect(r.status == .notImplemented, "\(r.text)")
            #expect(object(r.json)["error"] as? String == "FeatureNotImplemented")
            let message = object(r.json)["message"] as? String ?? ""
            for fragment in fragments { #expect(message.contains(fragment), "\(message)") }
        }
    }

    @Test(arguments: [#"{"state": "stop", "timeout": 0}"#, #"{"state": "stop", "timeout": 3601}"#,
                      #"{"state": "stop", "timeout": "soon"}"#])
    func aBadStopTimeoutIsABadRequest(_ body: String) async throws {
        try await TestServer().run { client in
            let r = try await client.call(.put, "/test/localhost/guests/web-1/power", json: body)
            #expect(r.status == .badRequest, "\(r.text)")
            #expect((object(r.json)["message"] as? String)?.contains("timeout") == true, "\(r.text)")
            #expect(object(try await client.call(.get, "/test/localhost/guests/web-1").json)["state"] as? String == "STARTED")
        }
    }

    @Test func stopAnswersOnceTheGuestIsOff() async throws {
        try await TestServer().run { client in
            let r = try await client.call(.put, "/test/localhost/guests/web-1/power", json: #"{"state": "stop", "timeout": 5}"#)
            #expect(r.status == .ok, "\(r.text)")
            #expect(object(r.json)["action"] as? String == "stop")
            #expect(object(try await client.call(.get, "/test/localhost/guests/web-1").json)["state"] as? String == "STOPPED")
        }
    }

    @Test func everyAPIReportsAShuttingDownGuestAsRunning() {
        for state in DomainState.allCases {
            let guest = LibvirtHypervisor.guestState(state)
            let expected: GuestState = switch state {
            case .running, .blocked, .shutdown: .started
            case .paused, .pmSuspended: .paused
            case .shutoff, .crashed, .noState: .stopped
            }
            #expect(guest == expected, "\(state)")
            // vmango's and the container API's words derive from the one mapping.
            #expect(Machine.state(guest) == ["STARTED": "running", "STOPPED": "stopped", "PAUSED": "paused"][guest.rawValue])
            #expect(Container.State(guest).rawValue == ["STARTED": "RUNNING", "STOPPED": "STOPPED", "PAUSED": "FROZEN"][guest.rawValue])
        }
        #expect(Machine.state(LibvirtHypervisor.guestState(.shutdown)) == "running")
        #expect(Container.State(LibvirtHypervisor.guestState(.shutdown)) == .running)
    }
}
