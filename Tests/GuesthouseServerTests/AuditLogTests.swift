import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// The audit log over real HTTP: one line per change on each interface, refusals included, and
/// `GET /api/audit` reading it back.
@Suite struct AuditLogTests {
    /// Containers that only count their stops (the route, not libvirt, is under test here).
    final class StoppingContainers: ContainerService {
        let stops = Atomic<Int>(0)
        var vnis: [Int] { [] }
        func create(_ spec: ContainerSpec) async throws -> Container { throw GuesthouseError.notImplemented("create") }
        func runningIDs() async throws -> [Int] { [] }
        func container(id: Int) async throws -> Container { throw GuesthouseError.notFound("no container \(id)") }
        func start(id: Int) async throws { throw GuesthouseError.notFound("no container \(id)") }
        func stop(id: Int) async throws { stops.add(1, ordering: .relaxed) }
        func delete(id: Int) async throws { throw GuesthouseError.notFound("no container \(id)") }
        func consoleLog(id: Int) async throws -> String { "" }
    }

    static func server(_ path: String, perUser: Int = 100) throws -> TestServer {
        try TestServer.vmango { config in
            config.server.auditLog = path
            config.server.sessionSecret = "test-secret-\(UUID().uuidString)"
            config.server.loginFailuresPerUser = perUser
            config.users["other"] = UserConfig(name: "other", passwordHash: TestServer.passwordHash)
        }
    }

    static func withFile(_ body: (String) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gh-audit-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await body(path)
    }

    /// The file's lines as JSON objects, once it holds at least `count` (polled with a deadline).
    static func lines(_ path: String, atLeast count: Int) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            let lines = text.split(separator: "\n").map { object(try? JSONSerialization.jsonObject(with: Data($0.utf8))) }
            if lines.count >= count || ContinuousClock.now > deadline { return lines }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func find(_ lines: [[String: Any]], _ interface: String, _ action: String, status: Int) -> [String: Any]? {
        lines.first { $0["interface"] as? String == interface && $0["action"] as? String == action && $0["status"] as? Int == status }
    }

    @Test func eachInterfaceAppendsALinePerChangeAndRefusal() async throws {
        try await Self.withFile { path in
            let containers = StoppingContainers()
            try await Self.server(path, perUser: 2).run(containers: containers) { (client: any TestClientProtocol) async throws in
                let guest = "/test/localhost/guests/6f1e8f2a-0000-4000-8000-000000000002"
                // Simplestack: a change, and a wrong password.
                #expect(try await client.call(.put, guest + "/power", json: #"{"state": "start"}"#).status == .ok)
                let wrong: HTTPFields = [.init("x-simplestack-hypervisor-token")!: Data("other:nope".utf8).base64EncodedString()]
                #expect(try await client.call(.put, guest + "/power", json: #"{"state": "start"}"#, headers: wrong).status == .unauthorized)
                // vmango: a change and one that fails.
                #expect(try await client.call(.post, "/api/machines/LOCAL1/web-1/stop/", headers: TestServer.vmangoAuth).status == .ok)
                #expect(try await client.call(.post, "/api/machines/LOCAL1/web-1/stop/", headers: TestServer.vmangoAuth).status == .conflict)
                // Web UI: a form post after logging in, and a wrong login for `other` (its second failure,
                // after the Simplestack one) then throttled ones.
                let (cookies, csrf) = try await WebUITests.logIn(client)
                let started = try await WebUITests.request(client, .post, "/machines/LOCAL1/web-1/start/", cookies: cookies,
                                                           form: ["csrf": csrf])
                #expect(started.status == .seeOther)
                for _ in 0..<3 {
                    let form = try await WebUITests.request(client, .get, "/login/")
                    let token = try #require(form.csrf)
                    _ = try await WebUITests.request(client, .post, "/login/", cookies: ["guesthouse_login": token],
                                                     form: ["csrf": token, "Username": "other", "Password": "nope"])
                }
                // Containers: a stop, and one without credentials.
                #expect(try await client.call(.post, "/api/container/stop/7").status == .ok)
                #expect(try await client.call(.post, "/api/container/stop/7", headers: [:]).status == .unauthorized)
                #expect(containers.stops.load(ordering: .relaxed) == 1)
                // Reads are not changes.
                #expect(try await client.call(.get, guest).status == .ok)

                let lines = try await Self.lines(path, atLeast: 11)
                let power = try #require(Self.find(lines, "simplestack", "PUT /{hypervisor}/{host}/guests/{guest_id}/power", status: 200))
                #expect(power["user"] as? String == "admin")
                #expect(power["result"] as? String == "ok")
                #expect(power["source"] as? String == "127.0.0.1" || power["source"] as? String == "::1")
                #expect(object(power["target"]) as? [String: String] == ["hypervisor": "test", "host": "localhost",
                                                                         "guest_id": "6f1e8f2a-0000-4000-8000-000000000002"])
                #expect((power["time"] as? String).flatMap { try? Date($0, strategy: .iso8601) } != nil)
                let refused = try #require(Self.find(lines, "simplestack", "PUT /{hypervisor}/{host}/guests/{guest_id}/power", status: 401))
                #expect(refused["user"] as? String == "other")
                #expect((refused["result"] as? String)?.hasPrefix("Unauthorized") == true)
                let stop = try #require(Self.find(lines, "vmango", "POST /api/machines/{provider}/{id}/stop/", status: 200))
                #expect(stop["user"] as? String == "admin")
                #expect(object(stop["target"]) as? [String: String] == ["provider": "LOCAL1", "id": "web-1"])
                let conflict = try #require(Self.find(lines, "vmango", "POST /api/machines/{provider}/{id}/stop/", status: 409))
                #expect((conflict["result"] as? String)?.hasPrefix("OperationNotAllowed") == true)
                let login = try #require(Self.find(lines, "web", "POST /login/", status: 303))
                #expect(login["user"] as? String == "admin")
                let web = try #require(Self.find(lines, "web", "POST /machines/:provider/:id/:action/", status: 303))
                #expect(web["user"] as? String == "admin")
                #expect(object(web["target"]) as? [String: String] == ["provider": "LOCAL1", "id": "web-1", "action": "start"])
                #expect(lines.filter { $0["action"] as? String == "POST /login/" && $0["status"] as? Int == 401 && $0["user"] as? String == "other" }.count == 1)
                let throttled = try #require(Self.find(lines, "web", "POST /login/", status: 429))
                #expect(throttled["user"] as? String == "other")
                #expect((throttled["result"] as? String)?.hasPrefix("TooManyRequests") == true)
                let container = try #require(Self.find(lines, "containers", "POST /api/container/stop/{id}", status: 200))
                #expect(container["user"] as? String == "admin")
                #expect(object(container["target"]) as? [String: String] == ["id": "7"])
                #expect(Self.find(lines, "containers", "POST /api/container/stop/{id}", status: 401) != nil)
                #expect(!lines.contains { ($0["action"] as? String)?.hasPrefix("GET ") == true && $0["status"] as? Int == 200 })
                // Nothing secret: no password, token or session in the file.
                let text = try String(contentsOfFile: path, encoding: .utf8)
                #expect(!text.contains(TestServer.password) && !text.contains("nope") && !text.contains(TestServer.token))
                #expect(!text.contains(cookies["guesthouse_session"] ?? "-"))
            }
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
            #expect(mode == 0o600)
        }
    }

    @Test func theAPIReadsTheLogBackPagedAndFiltered() async throws {
        try await Self.withFile { path in
            try await Self.server(path).run { (client: any TestClientProtocol) async throws in
                let start = Date()
                let other: HTTPFields = [.init("X-Vmango-User")!: "other", .init("X-Vmango-Pass")!: TestServer.password]
                for action in ["stop", "start", "stop", "start", "stop"] {
                    #expect(try await client.call(.post, "/api/machines/LOCAL1/web-1/\(action)/", headers: TestServer.vmangoAuth).status == .ok)
                }
                #expect(try await client.call(.post, "/api/machines/LOCAL1/web-1/start/", headers: other).status == .ok)
                let first = try await client.call(.get, "/api/audit?limit=2", headers: TestServer.vmangoAuth)
                #expect(first.status == .ok)
                let entries = object(first.json)["entries"] as? [[String: Any]] ?? []
                #expect(entries.map { $0["action"] as? String } == ["POST /api/machines/{provider}/{id}/stop/",
                                                                    "POST /api/machines/{provider}/{id}/start/"])
                #expect(object(first.json)["next_offset"] as? Int == 2)
                let last = try await client.call(.get, "/api/audit?limit=4&offset=4", headers: TestServer.vmangoAuth)
                let lastEntries = object(last.json)["entries"] as? [[String: Any]] ?? []
                #expect(lastEntries.map { $0["user"] as? String } == ["admin", "other"])
                #expect(object(last.json)["next_offset"] is NSNull)
                let byOther = try await client.call(.get, "/api/audit?user=other", headers: TestServer.vmangoAuth)
                #expect((object(byOther.json)["entries"] as? [[String: Any]])?.map { $0["user"] as? String } == ["other"])
                let since = start.addingTimeInterval(-1).formatted(.iso8601)
                let recent = try await client.call(.get, "/api/audit?since=\(since)", headers: TestServer.vmangoAuth)
                #expect((object(recent.json)["entries"] as? [[String: Any]])?.count == 6)
                let future = Date().addingTimeInterval(3600).formatted(.iso8601)
                let none = try await client.call(.get, "/api/audit?since=\(future)", headers: TestServer.vmangoAuth)
                #expect((object(none.json)["entries"] as? [[String: Any]])?.isEmpty == true)
                let bad = try await client.call(.get, "/api/audit?since=yesterday", headers: TestServer.vmangoAuth)
                #expect(bad.status == .badRequest)
                #expect(client.vmangoError(bad.json).contains("since"))
                let anonymous = try await client.call(.get, "/api/audit", headers: [:])
                #expect(anonymous.status == .unauthorized)
            }
        }
    }
}
