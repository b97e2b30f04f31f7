import Foundation
import GuesthouseCore
import GuesthouseLibvirt
import Hummingbird
import HummingbirdTesting
import Testing

/// creepy-meow's API over real libvirt-LXC on plain test bridges (`ghtab211`; `ghtab212` is left
/// missing on purpose). Serialized: the tests share the host's libvirt.
@Suite(.serialized)
struct ContainerAPITests {
    static let vnis = [211, 212]
    static let bridge = "ghtab{vni}"

    @Test func badFieldsAreA400NamingEachField() async throws {
        let lab = try ContainerHarness(ids: [], vnis: Self.vnis, bridge: Self.bridge)
        defer { lab.close() }
        try await lab.run { client in
            let res = try await client.send(.post, "/api/container/create", form: "id=abc&ip=300.1.2.3/24&vlan=9")
            #expect(res.status == .badRequest)
            #expect(res.body["result"] as? Bool == false)
            let errors = res.body["errors"] as? [String: String] ?? [:]
            #expect(errors.keys.sorted() == ["id", "ip", "vlan"])
            #expect(errors["vlan"]?.contains("211, 212") == true)

            let missing = try await client.send(.post, "/api/container/create", form: "id=5")
            #expect(missing.status == .badRequest)
            let missingErrors = missing.body["errors"] as? [String: String] ?? [:]
            #expect(missingErrors["ip"] == "is required")
            #expect(missingErrors["vlan"]?.hasPrefix("is required") == true)
            #expect(missingErrors["id"] == nil)

            let network = try await client.send(.post, "/api/container/create",
                                                json: #"{"id": 7, "ip": "198.18.211.0/24", "vlan": 211}"#)
            #expect(network.status == .badRequest)
            #expect((network.body["errors"] as? [String: String])?.keys.sorted() == ["ip"])

            let zeroID = try await client.send(.post, "/api/container/create",
                                               json: #"{"id": 0, "ip": "198.18.211.9/24", "vlan": "211"}"#)
            #expect((zeroID.body["errors"] as? [String: String])?.keys.sorted() == ["id"])

            // A number too large for an integer is a bad field, not a crash.
            let huge = try await client.send(.post, "/api/container/create",
                                             json: #"{"id": 1e30, "ip": "198.18.211.9/24", "vlan": 211}"#)
            #expect(huge.status == .badRequest)
            #expect((huge.body["errors"] as? [String: String])?.keys.sorted() == ["id"])

            let notJSON = try await client.send(.post, "/api/container/create", json: "{nope")
            #expect(notJSON.status == .badRequest)
            #expect((notJSON.body["errors"] as? [String: String])?["body"] != nil)

            let badPath = try await client.send(.get, "/api/container/info/abc")
            #expect(badPath.status == .badRequest)
            #expect((badPath.body["errors"] as? [String: String])?["id"] != nil)
        }
    }

    @Test func everyRouteNeedsCredentials() async throws {
        let lab = try ContainerHarness(ids: [], vnis: Self.vnis, bridge: Self.bridge)
        defer { lab.close() }
        try await lab.run { client in
            for (method, path) in [(HTTPRequest.Method.post, "/api/container/create"), (.get, "/api/container/list"),
                                   (.get, "/api/container/info/1"), (.post, "/api/container/stop/1"),
                                   (.post, "/api/container/start/1"), (.post, "/api/container/delete/1"),
                                   (.get, "/api/container/console/1")] {
                let res = try await client.send(method, path, form: method == .post ? "id=1&ip=198.18.211.5/24&vlan=211" : nil,
                                                headers: [:])
                #expect(res.status == .unauthorized, "\(method) \(path)")
                #expect(res.body["result"] as? Bool == false)
                #expect((res.body["errors"] as? [String: String])?["auth"] != nil)
            }
            let wrong = try await client.send(.get, "/api/container/list",
                                              headers: [.authorization: "Basic " + Data("admin:nope".utf8).base64EncodedString()])
            #expect(wrong.status == .unauthorized)
            #expect((wrong.body["errors"] as? [String: String])?["auth"] == "Authentication failed")
        }
    }

    @Test func anUnknownContainerIsA404() async throws {
        let lab = try ContainerHarness(ids: [2199], vnis: Self.vnis, bridge: Self.bridge)
        defer { lab.close() }
        try await lab.run { client in
            for (method, path) in [(HTTPRequest.Method.get, "/api/container/info/2199"), (.post, "/api/container/stop/2199"),
                                   (.post, "/api/container/start/2199"), (.post, "/api/container/delete/2199"),
                                   (.get, "/api/container/console/2199")] {
                let res = try await client.send(method, path)
                #expect(res.status == .notFound, "\(method) \(path)")
                #expect(res.body["result"] as? Bool == false)
                #expect((res.body["errors"] as? [String: String])?["id"]?.contains("2199") == true)
            }
            // Unknown routes under /api/container/ answer in the same shape; a wrong method is a 405.
            let unknown = try await client.send(.get, "/api/container/nope")
            #expect(unknown.status == .notFound && unknown.body["result"] as? Bool == false, "\(unknown.text)")
            let wrongMethod = try await client.send(.get, "/api/container/create")
            #expect(wrongMethod.status == .methodNotAllowed && wrongMethod.body["result"] as? Bool == false,
                    "\(wrongMethod.text)")
        }
    }

    @Test func aContainerLivesThroughTheAPI() async throws {
        let lab = try ContainerHarness(ids: [2101, 2102], vnis: Self.vnis, bridge: Self.bridge, makeBridges: [211])
        defer { lab.close() }
        try await lab.run { client in
            let created = try await client.send(.post, "/api/container/create", form: "id=2101&vlan=211&ip=198.18.211.5%2F24")
            #expect(created.status == .ok, "\(created.text)")
            #expect(created.body["result"] as? Bool == true)
            #expect(created.body["id"] as? Int == 2101)
            #expect(created.body["vlan"] as? Int == 211)
            #expect(created.body["ip"] as? String == "198.18.211.5/24")

            let list = try await client.send(.get, "/api/container/list")
            #expect((list.body["containers_id"] as? [Int])?.contains(2101) == true)

            let info = try await client.send(.get, "/api/container/info/2101")
            #expect(info.status == .ok)
            #expect(info.body["name"] as? String == "container2101")
            #expect(info.body["state"] as? String == "RUNNING")
            #expect(info.body["vlan"] as? Int == 211)
            #expect(info.body["ip"] as? String == "198.18.211.5/24")
            #expect(info.body["ips"] as? [String] == ["198.18.211.5"])
            #expect(info.body["mac"] as? String == "02:00:00:00:08:35")  // 2101 = 0x835, no overlay: server 0
            #expect(info.body["bridge"] as? String == "ghtab211")
            #expect((info.body["memory_limit"] as? Int) == 64 * 1024 * 1024)
            #expect((info.body["memory_use"] as? Int ?? 0) > 0)
            #expect(info.body["cpu_use"] is Double || info.body["cpu_use"] is Int)

            // The container's own network namespace: eth0 with the address and MAC, nothing of the host's.
            let pid = try lab.initPID(2101)
            let links = try host.run("nsenter", ["-t", String(pid), "-n", "ip", "-o", "link"])
            #expect(links.contains("eth0") && links.contains("02:00:00:00:08:35"))
            #expect(!links.contains("ghtab211"))
            let addresses = try host.run("nsenter", ["-t", String(pid), "-n", "ip", "-o", "-4", "addr", "show", "dev", "eth0"])
            #expect(addresses.contains("198.18.211.5/24"))

            let console = try await client.send(.get, "/api/container/console/2101")
            #expect(console.status == .ok)
            #expect((console.body["console"] as? String)?.contains("container2101 started") == true, "\(console.text)")

            let again = try await client.send(.post, "/api/container/create", form: "id=2101&vlan=211&ip=198.18.211.6/24")
            #expect(again.status == .conflict)
            #expect((again.body["errors"] as? [String: String])?["id"]?.contains("in use") == true)

            let stopped = try await client.send(.post, "/api/container/stop/2101")
            #expect(stopped.status == .ok, "\(stopped.text)")
            #expect(stopped.body["action"] as? String == "stop")
            let afterStop = try await client.send(.get, "/api/container/list")
            #expect((afterStop.body["containers_id"] as? [Int])?.contains(2101) == false)
            #expect(try await client.send(.get, "/api/container/info/2101").body["state"] as? String == "STOPPED")
            let console2 = try await client.send(.get, "/api/container/console/2101")
            #expect((console2.body["console"] as? String)?.contains("container2101 stopping") == true, "\(console2.text)")
            #expect(try await client.send(.post, "/api/container/stop/2101").status == .conflict)

            // An id in use by a stopped container is still a conflict.
            let whileStopped = try await client.send(.post, "/api/container/create",
                                                     json: #"{"id": 2101, "vlan": 211, "ip": "198.18.211.7/24"}"#)
            #expect(whileStopped.status == .conflict)

            #expect(try await client.send(.post, "/api/container/start/2101").status == .ok)
            #expect(try await client.send(.get, "/api/container/info/2101").body["state"] as? String == "RUNNING")
            #expect(try await client.send(.post, "/api/container/start/2101").status == .conflict)

            // JSON bodies work too; ids may be numbers.
            let second = try await client.send(.post, "/api/container/create",
                                               json: #"{"id": 2102, "vlan": 211, "ip": "198.18.211.8/24"}"#)
            #expect(second.status == .ok, "\(second.text)")
            let both = try await client.send(.get, "/api/container/list")
            #expect(Set(both.body["containers_id"] as? [Int] ?? []).isSuperset(of: [2101, 2102]))

            for id in [2101, 2102] {
                let deleted = try await client.send(.post, "/api/container/delete/\(id)")
                #expect(deleted.status == .ok, "\(deleted.text)")
                #expect(try await client.send(.get, "/api/container/info/\(id)").status == .notFound)
                #expect(!FileManager.default.fileExists(atPath: lab.layerDirectory(id)))
            }
        }
    }

    /// List and info come from the host's view: a write through the API reads back at once, and a
    /// container stopped by another tool (virsh) leaves the list as soon as libvirt's event arrives.
    @Test func listAndInfoComeFromTheViewKeptByEvents() async throws {
        let lab = try ContainerHarness(ids: [2104], vnis: Self.vnis, bridge: Self.bridge, makeBridges: [211])
        defer { lab.close() }
        try await lab.run { client in
            let created = try await client.send(.post, "/api/container/create", form: "id=2104&vlan=211&ip=198.18.211.9%2F24")
            #expect(created.status == .ok, "\(created.text)")
            // Read back at once, and held by the view the answers come from.
            #expect((try await client.send(.get, "/api/container/list").body["containers_id"] as? [Int])?.contains(2104) == true)
            let view = lab.pool.view(uri: lab.service.config.uri)
            #expect(view.isReady && view.isEventDriven)
            #expect(view.domain(id: "container2104").map { LibvirtHypervisor.guestState($0.state) } == .started)
            let info = try await client.send(.get, "/api/container/info/2104")
            #expect(info.body["state"] as? String == "RUNNING" && info.body["ip"] as? String == "198.18.211.9/24"
                    && info.body["bridge"] as? String == "ghtab211" && info.body["mtu"] == nil, "\(info.text)")
            #expect((info.body["memory_use"] as? Int ?? 0) > 0, "\(info.text)")

            // Stopped elsewhere: gone from the list and STOPPED in the info within 1 s of the event.
            #expect(succeeds("virsh", ["-q", "-c", "lxc:///system", "destroy", "container2104"]))
            let deadline = ContinuousClock.now + .seconds(1)
            var listed = true
            while listed, ContinuousClock.now < deadline {
                listed = (try await client.send(.get, "/api/container/list").body["containers_id"] as? [Int])?.contains(2104) ?? true
                if listed { try await Task.sleep(for: .milliseconds(10)) }  // polling with a deadline
            }
            #expect(!listed, "container2104 still listed 1 s after virsh destroyed it")
            let stopped = try await client.send(.get, "/api/container/info/2104")
            #expect(stopped.body["state"] as? String == "STOPPED" && stopped.body["memory_use"] == nil, "\(stopped.text)")
            #expect(view.domain(id: "container2104").map { LibvirtHypervisor.guestState($0.state) } == .stopped)

            // Deleted through the API: gone from the view before the answer.
            #expect(try await client.send(.post, "/api/container/delete/2104").status == .ok)
            #expect(view.domain(id: "container2104") == nil)
            #expect(try await client.send(.get, "/api/container/info/2104").status == .notFound)
        }
    }

    @Test func aFailedCreateLeavesNothing() async throws {
        let lab = try ContainerHarness(ids: [2103], vnis: Self.vnis, bridge: Self.bridge, makeBridges: [211])
        defer { lab.close() }
        #expect(!hostHasLink("ghtab212"))
        try await lab.run { client in
            let res = try await client.send(.post, "/api/container/create", form: "id=2103&vlan=212&ip=198.18.212.5/24")
            #expect(res.status == .badGateway)
            #expect((res.body["errors"] as? [String: String])?["server"]?.contains("ghtab212") == true, "\(res.text)")
            #expect(try await client.send(.get, "/api/container/info/2103").status == .notFound)
            #expect(!FileManager.default.fileExists(atPath: lab.layerDirectory(2103)))
        }
        #expect(!succeeds("virsh", ["-q", "-c", "lxc:///system", "dominfo", "container2103"]))
    }

    @Test func theRoutesAreInTheOpenAPIDocument() async throws {
        let lab = try ContainerHarness(ids: [], vnis: Self.vnis, bridge: Self.bridge)
        defer { lab.close() }
        try await lab.run { client in
            let doc = try await client.send(.get, "/openapi.json", headers: [:])
            let paths = doc.body["paths"] as? [String: Any] ?? [:]
            for path in ["/api/container/create", "/api/container/list", "/api/container/info/{id}",
                         "/api/container/stop/{id}", "/api/container/start/{id}", "/api/container/delete/{id}",
                         "/api/container/console/{id}"] {
                #expect(paths[path] != nil, "\(path)")
            }
            let create = (paths["/api/container/create"] as? [String: Any])?["post"] as? [String: Any]
            let bad = (create?["responses"] as? [String: Any])?["400"] as? [String: Any]
            #expect("\(bad ?? [:])".contains("ContainerError"))
        }
    }
}
