import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Roles: a member sees and acts only on what they created, through the vmango API, the web pages
/// and the container API (404 and absent from lists otherwise); the Simplestack API, the audit log
/// and metrics answer 403 to them. Each refusal leaves an audit line naming the member.
@Suite struct RoleTests {
    @Test func aMemberSeesAndActsOnlyOnTheirMachinesThroughTheAPI() async throws {
        try await AuditLogTests.withFile { path in
            try await Delegation.server(audit: path).run { client in
                let admin = try await client.call(.get, "/api/machines/", headers: TestServer.vmangoAuth)
                #expect(Delegation.names(admin.json) == ["build-box", "db-1", "web-1"])
                let mine = try await client.call(.get, "/api/machines/", headers: Delegation.memberAuth)
                #expect(mine.status == .ok)
                #expect(Delegation.names(mine.json) == ["build-box"])

                // Someone else's machine does not exist for the member, whatever they ask.
                let detail = try await client.call(.get, "/api/machines/LOCAL1/web-1/", headers: Delegation.memberAuth)
                #expect(detail.status == .notFound)
                #expect(client.vmangoError(detail.json) == "machine web-1 of provider LOCAL1 not found")
                let stop = try await client.call(.post, "/api/machines/LOCAL1/web-1/stop/", headers: Delegation.memberAuth)
                #expect(stop.status == .notFound)
                let delete = try await client.call(.delete, "/api/machines/LOCAL1/db-1/", headers: Delegation.memberAuth)
                #expect(delete.status == .notFound)
                #expect(try await Delegation.machine(client, "web-1")?["State"] as? String == "running")
                #expect(try await Delegation.machine(client, "db-1") != nil)

                // Their own machine works, and what they create is theirs.
                let start = try await client.call(.post, "/api/machines/LOCAL1/build-box/start/", headers: Delegation.memberAuth)
                #expect(start.status == .ok, "\(start.text)")
                #expect(try await Delegation.machine(client, "build-box")?["State"] as? String == "running")
                let created = try await client.form("/api/machines/", Delegation.create("ci-vm"), headers: Delegation.memberAuth)
                #expect(created.status == .created, "\(created.text)")
                #expect(try await Delegation.machine(client, "ci-vm")?["Creator"] as? String == Delegation.member)
                let after = try await client.call(.get, "/api/machines/", headers: Delegation.memberAuth)
                #expect(Delegation.names(after.json) == ["build-box", "ci-vm"])

                // The provisioning API, the audit log and metrics are for admins.
                let simplestack = try await client.call(.get, "/test/localhost/guests", headers: Delegation.memberSimplestack)
                #expect(simplestack.status == .forbidden)
                #expect(object(simplestack.json)["error"] as? String == "Forbidden")
                #expect(try await client.call(.get, "/test/localhost/guests").status == .ok)
                #expect(try await client.call(.get, "/api/audit", headers: Delegation.memberAuth).status == .forbidden)
                #expect(try await client.call(.get, "/api/audit", headers: TestServer.vmangoAuth).status == .ok)
                #expect(try await client.call(.get, "/metrics", headers: Delegation.memberAuth).status == .forbidden)
                // Images are everyone's: uploading one is for admins.
                var uploadHeaders = Delegation.memberAuth
                uploadHeaders[.contentType] = "application/octet-stream"
                let upload = try await client.execute(uri: "/api/images/?provider=LOCAL1&name=Evil-1_amd64_raw.img", method: .post,
                                                      headers: uploadHeaders, body: ByteBuffer(repeating: 0, count: 4096)) { $0.status }
                #expect(upload == .forbidden)
                let images = try await client.call(.get, "/api/images/", headers: TestServer.vmangoAuth)
                #expect(!images.text.contains("Evil-1"))

                let lines = try await AuditLogTests.lines(path, atLeast: 6)
                let refused = try #require(AuditLogTests.find(lines, "simplestack", "GET /{hypervisor}/{host}/guests", status: 403))
                #expect(refused["user"] as? String == Delegation.member)
                #expect((refused["result"] as? String)?.hasPrefix("Forbidden:") == true)
                let hidden = try #require(AuditLogTests.find(lines, "vmango", "POST /api/machines/{provider}/{id}/stop/", status: 404))
                #expect(hidden["user"] as? String == Delegation.member)
                let audit = try #require(AuditLogTests.find(lines, "vmango", "GET /api/audit", status: 403))
                #expect(audit["user"] as? String == Delegation.member)
            }
        }
    }

    @Test func aMemberSeesOnlyTheirMachinesInThePages() async throws {
        try await AuditLogTests.withFile { path in
            try await Delegation.server(audit: path).run { client in
                let (cookies, csrf) = try await WebUITests.logIn(client, as: Delegation.member)
                let list = try await WebUITests.request(client, .get, "/machines/", cookies: cookies)
                #expect(list.status == .ok)
                #expect(list.text.contains(">build-box<"))
                #expect(!list.text.contains(">web-1<") && !list.text.contains(">db-1<"))
                #expect(!list.text.contains("href=\"/audit/\""))
                let page = try await WebUITests.request(client, .get, "/machines/LOCAL1/web-1/", cookies: cookies)
                #expect(page.status == .notFound)
                let stop = try await WebUITests.request(client, .post, "/machines/LOCAL1/web-1/stop/", cookies: cookies,
                                                        form: ["csrf": csrf])
                #expect(stop.status == .notFound)
                #expect(try await Delegation.machine(client, "web-1")?["State"] as? String == "running")
                let own = try await WebUITests.request(client, .get, "/machines/LOCAL1/build-box/", cookies: cookies)
                #expect(own.status == .ok)
                let status = try await WebUITests.request(client, .get, "/", cookies: cookies)
                #expect(status.text.contains("<td data-label=\"Machines\">1</td>"))
                let audit = try await WebUITests.request(client, .get, "/audit/", cookies: cookies)
                #expect(audit.status == .forbidden)

                let lines = try await AuditLogTests.lines(path, atLeast: 2)
                let refused = try #require(AuditLogTests.find(lines, "web", "POST /machines/:provider/:id/:action/", status: 404))
                #expect(refused["user"] as? String == Delegation.member)
                #expect((refused["result"] as? String)?.contains("not found") == true)
            }
        }
    }

    @Test func theAuditPageIsForAdminsPagedFilteredAndEscaped() async throws {
        try await AuditLogTests.withFile { path in
            try await Delegation.server(audit: path).run { client in
                // A login attempt under a name full of markup lands in the log as it was sent.
                let form = try await WebUITests.request(client, .get, "/login/")
                let token = try #require(form.csrf)
                _ = try await WebUITests.request(client, .post, "/login/", cookies: ["guesthouse_login": token],
                                                 form: ["csrf": token, "Username": "<script>x</script>", "Password": "no"])
                #expect(try await client.call(.post, "/api/machines/LOCAL1/web-1/stop/", headers: TestServer.vmangoAuth).status == .ok)
                _ = try await AuditLogTests.lines(path, atLeast: 2)
                let (cookies, _) = try await WebUITests.logIn(client)
                let page = try await WebUITests.request(client, .get, "/audit/", cookies: cookies)
                #expect(page.status == .ok)
                #expect(page.text.contains("href=\"/audit/\""))
                #expect(!page.text.contains("<script>x</script>"))
                #expect(page.text.contains("&lt;script&gt;x&lt;/script&gt;"))
                #expect(page.text.contains("POST /api/machines/{provider}/{id}/stop/"))
                let filtered = try await WebUITests.request(client, .get, "/audit/?user=%3Cscript%3Ex%3C%2Fscript%3E", cookies: cookies)
                #expect(filtered.status == .ok)
                #expect(filtered.text.contains("&lt;script&gt;x&lt;/script&gt;"))
                #expect(!filtered.text.contains("POST /api/machines/{provider}/{id}/stop/"))
                let beyond = try await WebUITests.request(client, .get, "/audit/?offset=1000", cookies: cookies)
                #expect(beyond.text.contains("No entries."))
                #expect(beyond.text.contains("Previous"))
            }
        }
    }

    @Test func aMemberSeesOnlyTheirContainers() async throws {
        try await AuditLogTests.withFile { path in
            let containers = MemoryContainers([(1, "admin"), (2, Delegation.member), (3, nil)])
            try await Delegation.server(audit: path).run(containers: containers) { client in
                let all = try await client.call(.get, "/api/container/list", headers: TestServer.vmangoAuth)
                #expect(object(all.json)["containers_id"] as? [Int] == [1, 2, 3])
                let mine = try await client.call(.get, "/api/container/list", headers: Delegation.memberAuth)
                #expect(object(mine.json)["containers_id"] as? [Int] == [2])
                #expect(try await client.call(.get, "/api/container/info/1", headers: Delegation.memberAuth).status == .notFound)
                #expect(try await client.call(.get, "/api/container/info/3", headers: Delegation.memberAuth).status == .notFound)
                #expect(try await client.call(.get, "/api/container/console/1", headers: Delegation.memberAuth).status == .notFound)
                let stop = try await client.call(.post, "/api/container/stop/1", headers: Delegation.memberAuth)
                #expect(stop.status == .notFound)
                #expect(containers.snapshot()[1]?.state == .running)
                #expect(try await client.call(.post, "/api/container/delete/3", headers: Delegation.memberAuth).status == .notFound)
                #expect(containers.snapshot()[3] != nil)
                #expect(try await client.call(.post, "/api/container/stop/2", headers: Delegation.memberAuth).status == .ok)
                #expect(containers.snapshot()[2]?.state == .stopped)
                let created = try await client.call(.post, "/api/container/create", json: #"{"id": 9, "ip": "192.168.2.9/24", "vlan": 2}"#,
                                                    headers: Delegation.memberAuth)
                #expect(created.status == .ok, "\(created.text)")
                #expect(containers.snapshot()[9]?.creator == Delegation.member)
                let info = try await client.call(.get, "/api/container/info/9", headers: Delegation.memberAuth)
                #expect(info.status == .ok)

                let lines = try await AuditLogTests.lines(path, atLeast: 4)
                let refused = try #require(AuditLogTests.find(lines, "containers", "POST /api/container/stop/{id}", status: 404))
                #expect(refused["user"] as? String == Delegation.member)
                #expect(object(refused["target"]) as? [String: String] == ["id": "1"])
            }
        }
    }
}
