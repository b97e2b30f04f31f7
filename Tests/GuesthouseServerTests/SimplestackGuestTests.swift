import Foundation
import GuesthouseConfig
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct SimplestackGuestTests {
    @Test func healthNeedsNoCredentials() async throws {
        try await TestServer().run { client in
            let r = try await client.call(.get, "/healthz", headers: [:])
            #expect(r.status == .ok)
            #expect(object(r.json)["status"] as? String == "ok")
        }
    }

    @Test func everyHypervisorRouteRefusesMissingOrWrongCredentials() async throws {
        try await TestServer().run { client in
            let missing = try await client.call(.get, "/test/localhost/guests", headers: [:])
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.contentType] == "application/json")
            #expect(object(missing.json)["error"] as? String == "Unauthorized")
            let wrongToken = Data("admin:nope".utf8).base64EncodedString()
            let wrong = try await client.call(.get, "/test/localhost/guests",
                                              headers: [.init("x-simplestack-hypervisor-token")!: wrongToken])
            #expect(wrong.status == .unauthorized)
            let garbage = try await client.call(.get, "/test/localhost", headers: [.init("x-simplestack-hypervisor-token")!: "%%%"])
            #expect(garbage.status == .unauthorized)
        }
    }

    @Test func basicAuthAndVmangoHeadersAreAcceptedToo() async throws {
        try await TestServer().run { client in
            let basic = "Basic " + Data("admin:\(TestServer.password)".utf8).base64EncodedString()
            let viaBasic = try await client.call(.get, "/test/localhost/guests", headers: [.authorization: basic])
            #expect(viaBasic.status == .ok)
            let vmango: HTTPFields = [.init("X-Vmango-User")!: "admin", .init("X-Vmango-Pass")!: TestServer.password]
            let viaHeaders = try await client.call(.get, "/test/localhost/guests", headers: vmango)
            #expect(viaHeaders.status == .ok)
        }
    }

    @Test func listsEveryGuestWithItsStateAndId() async throws {
        try await TestServer().run { client in
            let r = try await client.call(.get, "/test/localhost/guests")
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "application/json")
            let guests = list(r.json)
            #expect(guests.count == 3)
            let byName = Dictionary(uniqueKeysWithValues: guests.map { ($0["name"] as? String ?? "", $0) })
            #expect(byName["web-1"]?["state"] as? String == "STARTED")
            #expect(byName["build-box"]?["state"] as? String == "STOPPED")
            #expect(byName["db-1"]?["memory"] as? Int == 2048)
            #expect(byName["db-1"]?["cpus"] as? Int == 2)
            #expect(byName["db-1"]?["host"] as? String == "localhost")
            for guest in guests {
                #expect((guest["id"] as? String)?.count == 36)
                #expect(guest.keys.contains("hdd") && guest.keys.contains("ip") && guest.keys.contains("paravirtualized"))
            }
        }
    }

    @Test func poolHostsAndStoragesHaveTheirShapes() async throws {
        try await TestServer().run { client in
            let pool = object(try await client.call(.get, "/test/localhost").json)
            #expect(pool["total_memory"] as? Int ?? 0 > 0)
            #expect(pool["used_memory"] != nil && pool["uuid"] != nil && pool["master"] != nil)
            #expect((pool["software_info"] as? [String: Any])?["libvirt"] as? String == "9.0.0")
            let hosts = list(try await client.call(.get, "/test/localhost/hosts").json)
            #expect(hosts.count == 1)
            let hostID = try #require(hosts.first?["name"] as? String)
            #expect(try await client.call(.get, "/test/localhost/hosts/\(hostID)").status == .ok)
            #expect(try await client.call(.get, "/test/localhost/hosts/nope").status == .notFound)
            let storages = list(try await client.call(.get, "/test/localhost/storages").json)
            #expect(Set(storages.compactMap { $0["name"] as? String }) == ["default", "images"])
            let images = try #require(storages.first { $0["name"] as? String == "images" })
            #expect(images["size"] as? Int == 100 << 30)
            let id = try #require(images["id"] as? String)
            #expect(object(try await client.call(.get, "/test/localhost/storages/\(id)").json)["name"] as? String == "images")
            #expect(try await client.call(.get, "/test/localhost/storages/missing").status == .notFound)
        }
    }

    @Test func createsAGuestAndNamesItInLocation() async throws {
        try await TestServer().run { client in
            let r = try await client.call(.post, "/test/localhost/guests",
                                          json: #"{"name": "new-1", "memory": 256, "cpus": 2, "hdd": 3, "network": "guesthouse"}"#)
            #expect(r.status == .created)
            let guest = object(r.json)
            let id = try #require(guest["id"] as? String)
            #expect(r.headers[.location] == "/test/localhost/guests/\(id)")
            #expect(guest["state"] as? String == "STOPPED")
            #expect(guest["hdd"] as? Double == 3)
            let read = object(try await client.call(.get, "/test/localhost/guests/\(id)").json)
            #expect(read["name"] as? String == "new-1" && read["memory"] as? Int == 256 && read["cpus"] as? Int == 2)
            let again = try await client.call(.post, "/test/localhost/guests", json: #"{"name": "new-1"}"#)
            #expect(again.status == .conflict)
            #expect(object(again.json)["error"] as? String == "OperationNotAllowed")
        }
    }

    @Test(arguments: [
        ("", "empty"), ("{", "not valid JSON"), ("[1]", "JSON object"), (#"{"memory": 5}"#, "\"name\" is required"),
        (#"{"name": "../x"}"#, "name must be"), (#"{"name": "a", "memory": "lots"}"#, "\"memory\" must be an integer"),
        (#"{"name": "a", "cpus": 0}"#, "cpus must be between"), (#"{"name": "a", "network": "missing"}"#, ""),
    ])
    func badCreateBodiesAreClearErrors(_ body: String, _ fragment: String) async throws {
        try await TestServer().run { client in
            let r = try await client.call(.post, "/test/localhost/guests", json: body)
            let error = object(r.json)
            if fragment.isEmpty {
                #expect(r.status == .notFound)  // the named network does not exist
            } else {
                #expect(r.status == .badRequest)
                #expect(error["error"] as? String == "InvalidArguments")
                #expect((error["message"] as? String)?.contains(fragment) == true, "\(error)")
            }
            let guests = list(try await client.call(.get, "/test/localhost/guests").json)
            #expect(guests.count == 3, "a failed create left something behind")
        }
    }

    @Test func unknownGuestsFamiliesAndRoutesAreJSONNotFound() async throws {
        try await TestServer().run { client in
            let guest = try await client.call(.get, "/test/localhost/guests/00000000-0000-4000-8000-000000000999")
            #expect(guest.status == .notFound)
            #expect(object(guest.json)["error"] as? String == "EntityNotFound")
            let family = try await client.call(.get, "/nosuch/localhost/guests")
            #expect(family.status == .notFound)
            #expect(object(family.json)["error"] as? String == "EntityNotFound")
            let route = try await client.call(.get, "/test/localhost/guests/x/y/z/w")
            #expect(route.status == .notFound)
            #expect(route.headers[.contentType] == "application/json")
        }
    }

    @Test func hostsOutsideTheAllowListAreForbidden() async throws {
        try await TestServer().run { client in
            let r = try await client.call(.get, "/kvm/evil.example.com/guests")
            #expect(r.status == .forbidden)
            #expect(object(r.json)["error"] as? String == "Forbidden")
            let injected = try await client.call(.get, "/kvm/a%2Fb/guests")
            #expect(injected.status == .badRequest || injected.status == .forbidden)
        }
    }

    @Test func updatesReadBackExactly() async throws {
        try await TestServer().run { client in
            let id = "6f1e8f2a-0000-4000-8000-000000000002"  // build-box, shut off
            let r = try await client.call(.put, "/test/localhost/guests/\(id)", json: #"{"memory": 768, "cpus": 3, "name": "renamed"}"#)
            #expect(r.status == .ok)
            let read = object(try await client.call(.get, "/test/localhost/guests/\(id)").json)
            #expect(read["memory"] as? Int == 768)
            #expect(read["cpus"] as? Int == 3)
            #expect(read["name"] as? String == "renamed")
            let running = try await client.call(.put, "/test/localhost/guests/web-1", json: #"{"name": "other"}"#)
            #expect(running.status == .conflict)
            let bad = try await client.call(.put, "/test/localhost/guests/\(id)", json: #"{"memory": -1}"#)
            #expect(bad.status == .badRequest)
        }
    }

    @Test func powerWalksThroughEveryState() async throws {
        try await TestServer().run { client in
            let guest = "/test/localhost/guests/6f1e8f2a-0000-4000-8000-000000000002"
            func state() async throws -> String? { object(try await client.call(.get, guest).json)["state"] as? String }
            func power(_ s: String) async throws -> HTTPResponse.Status {
                try await client.call(.put, guest + "/power", json: #"{"state": "\#(s)"}"#).status
            }
            #expect(try await power("stop") == .conflict)
            let started = try await client.call(.put, guest + "/power", json: #"{"state": "start"}"#)
            #expect(started.status == .ok)
            #expect(object(started.json)["action"] as? String == "start" && object(started.json)["message"] as? String == "ok")
            #expect(try await state() == "STARTED")
            #expect(try await power("start") == .conflict)
            #expect(try await power("pause") == .ok)
            #expect(try await state() == "PAUSED")
            #expect(try await power("resume") == .ok)
            #expect(try await state() == "STARTED")
            let reboot = try await client.call(.put, guest + "/reboot", json: nil)
            #expect(reboot.status == .ok)
            #expect(object(reboot.json)["action"] as? String == "reboot")
            #expect(try await power("force_stop") == .ok)
            #expect(try await state() == "STOPPED")
            let unknown = try await client.call(.put, guest + "/power", json: #"{"state": "explode"}"#)
            #expect(unknown.status == .badRequest)
            #expect((object(unknown.json)["message"] as? String)?.contains("force_stop") == true)
            #expect(try await client.call(.put, guest + "/reboot", json: nil).status == .conflict)
        }
    }

    @Test func deleteRemovesTheGuestAndItsDisk() async throws {
        let server = try TestServer()
        try await server.run { client in
            let created = object(try await client.call(.post, "/test/localhost/guests", json: #"{"name": "doomed", "hdd": 1}"#).json)
            let id = try #require(created["id"] as? String)
            let deleted = try await client.call(.delete, "/test/localhost/guests/\(id)")
            #expect(deleted.status == .noContent)
            #expect(try await client.call(.get, "/test/localhost/guests/\(id)").status == .notFound)
            #expect(try await client.call(.delete, "/test/localhost/guests/\(id)").status == .notFound)
            let pool = try await server.pool.connection(uri: server.config.families["test"]!.localURI!)
            #expect(throws: (any Error).self) { try pool.storagePool(name: "default").volume(name: "doomed-disk0.qcow2") }
        }
    }

    @Test func importBodiesAreToldApartFromJSONWhateverTheContentType() async throws {
        try await TestServer().run { client in
            var tar = [UInt8](repeating: 0, count: 512)
            tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
            let r = try await client.execute(uri: "/test/localhost/guests", method: .post,
                                             headers: TestServer.auth + [.contentType: "application/json"],
                                             body: ByteBuffer(bytes: tar)) { ($0.status, String(buffer: $0.body)) }
            // An empty tar is no export archive: refused as such, not as bad JSON.
            #expect(r.0 == .badRequest)
            #expect(!r.1.contains("not valid JSON"), "an archive labelled JSON was parsed as JSON: \(r.1)")
        }
    }
}
