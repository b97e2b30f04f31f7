import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseServer
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// API tokens (HS256 JWTs signed with `[server] token_secret`) as `Authorization: Bearer` on every
/// API: valid, expired, tampered, revoked and read-only; the audit line names the token id, the
/// token's user keeps their role, and `guesthouse token create` prints one that works.
@Suite struct APITokenTests {
    static func tokens(revoked: [String] = []) -> APITokens {
        var server = ServerConfig()
        server.tokenSecret = Delegation.secret
        server.revokedTokens = revoked
        return APITokens(server)
    }

    @Test func aValidTokenWorksOnEveryAPIAndItsUseIsAudited() async throws {
        try await AuditLogTests.withFile { path in
            let (token, claims) = try await Self.tokens().sign(user: "admin", lifetime: .seconds(600), readOnly: false)
            let containers = MemoryContainers([(1, "admin")])
            try await Delegation.server(audit: path).run(containers: containers) { client in
                let auth = Delegation.bearer(token)
                #expect(try await client.call(.get, "/api/machines/", headers: auth).status == .ok)
                #expect(try await client.call(.get, "/test/localhost/guests", headers: auth).status == .ok)
                #expect(try await client.call(.get, "/api/container/list", headers: auth).status == .ok)
                #expect(try await client.call(.get, "/metrics", headers: auth).status == .ok)
                #expect(try await client.call(.get, "/api/audit", headers: auth).status == .ok)
                let stop = try await client.call(.post, "/api/machines/LOCAL1/web-1/stop/", headers: auth)
                #expect(stop.status == .ok)
                #expect(try await Delegation.machine(client, "web-1")?["State"] as? String == "stopped")
                let lines = try await AuditLogTests.lines(path, atLeast: 1)
                let line = try #require(AuditLogTests.find(lines, "vmango", "POST /api/machines/{provider}/{id}/stop/", status: 200))
                #expect(line["user"] as? String == "admin")
                #expect(line["token"] as? String == claims.jti.value)
                let text = try String(contentsOfFile: path, encoding: .utf8)
                #expect(!text.contains(token) && !text.contains(Delegation.secret))
            }
        }
    }

    @Test func expiredTamperedRevokedAndForeignTokensAre401() async throws {
        try await AuditLogTests.withFile { path in
            let tokens = Self.tokens()
            let expired = try await tokens.sign(APITokenClaims(user: "admin", id: "old", expires: Date().addingTimeInterval(-60),
                                                               readOnly: false))
            let (good, _) = try await tokens.sign(user: "admin", lifetime: .seconds(600), readOnly: false)
            // The payload swapped for one naming another user, the signature kept.
            let parts = good.split(separator: ".").map(String.init)
            let (other, _) = try await tokens.sign(user: Delegation.member, lifetime: .seconds(600), readOnly: false)
            let tampered = [parts[0], other.split(separator: ".").map(String.init)[1], parts[2]].joined(separator: ".")
            let (revoked, revokedClaims) = try await tokens.sign(user: "admin", lifetime: .seconds(600), readOnly: false, id: "revoked-1")
            var foreignServer = ServerConfig()
            foreignServer.tokenSecret = String(repeating: "x", count: 40)
            let (foreign, _) = try await APITokens(foreignServer).sign(user: "admin", lifetime: .seconds(600), readOnly: false)
            let server = try Delegation.server(audit: path) { $0.server.revokedTokens = [revokedClaims.jti.value] }
            try await server.run(containers: MemoryContainers([])) { client in
                for token in [expired, tampered, revoked, foreign, "not-a-token"] {
                    let auth = Delegation.bearer(token)
                    let vmango = try await client.call(.get, "/api/machines/", headers: auth)
                    #expect(vmango.status == .unauthorized)
                    #expect(client.vmangoError(vmango.json) == "Authentication failed")
                    let simplestack = try await client.call(.get, "/test/localhost/guests", headers: auth)
                    #expect(simplestack.status == .unauthorized)
                    #expect(object(simplestack.json)["error"] as? String == "Unauthorized")
                    #expect(try await client.call(.get, "/api/container/list", headers: auth).status == .unauthorized)
                    #expect(try await client.call(.post, "/api/machines/LOCAL1/web-1/stop/", headers: auth).status == .unauthorized)
                }
                #expect(try await Delegation.machine(client, "web-1")?["State"] as? String == "running")
                let lines = try await AuditLogTests.lines(path, atLeast: 5)
                let refusals = lines.filter { $0["action"] as? String == "POST /api/machines/{provider}/{id}/stop/" && $0["status"] as? Int == 401 }
                #expect(refusals.count == 5)
                // Simplestack's lines keep the reason (vmango answers with its own fixed text).
                let reasons = lines.filter { $0["interface"] as? String == "simplestack" && $0["status"] as? Int == 401 }
                    .compactMap { $0["result"] as? String }
                #expect(reasons.contains("Unauthorized: the API token revoked-1 is revoked"))
                #expect(reasons.contains("Unauthorized: the API token has expired"))
                #expect(reasons.filter { $0 == "Unauthorized: the API token is not valid" }.count == 3)
            }
        }
    }

    @Test func aReadOnlyTokenReadsButChangesNothing() async throws {
        try await AuditLogTests.withFile { path in
            let (token, claims) = try await Self.tokens().sign(user: "admin", lifetime: .seconds(600), readOnly: true)
            let containers = MemoryContainers([(1, "admin")])
            try await Delegation.server(audit: path).run(containers: containers) { client in
                let auth = Delegation.bearer(token)
                #expect(try await client.call(.get, "/api/machines/LOCAL1/web-1/", headers: auth).status == .ok)
                let stop = try await client.call(.post, "/api/machines/LOCAL1/web-1/stop/", headers: auth)
                #expect(stop.status == .forbidden)
                #expect(client.vmangoError(stop.json) == "the API token \(claims.jti.value) is read-only")
                let power = try await client.call(.put, "/test/localhost/guests/web-1/power", json: #"{"state": "stop"}"#, headers: auth)
                #expect(power.status == .forbidden)
                #expect(object(power.json)["error"] as? String == "Forbidden")
                #expect(try await client.call(.post, "/api/container/stop/1", headers: auth).status == .forbidden)
                #expect(containers.snapshot()[1]?.state == .running)
                #expect(try await Delegation.machine(client, "web-1")?["State"] as? String == "running")
                let lines = try await AuditLogTests.lines(path, atLeast: 3)
                let line = try #require(AuditLogTests.find(lines, "simplestack", "PUT /{hypervisor}/{host}/guests/{guest_id}/power", status: 403))
                #expect(line["user"] as? String == "admin")
                #expect(line["token"] as? String == claims.jti.value)
                #expect(AuditLogTests.find(lines, "containers", "POST /api/container/stop/{id}", status: 403)?["token"] as? String == claims.jti.value)
            }
        }
    }

    @Test func aMembersTokenKeepsTheirRole() async throws {
        try await AuditLogTests.withFile { path in
            let (token, _) = try await Self.tokens().sign(user: Delegation.member, lifetime: .seconds(600), readOnly: false)
            try await Delegation.server(audit: path).run { client in
                let auth = Delegation.bearer(token)
                let mine = try await client.call(.get, "/api/machines/", headers: auth)
                #expect(Delegation.names(mine.json) == ["build-box"])
                #expect(try await client.call(.get, "/api/machines/LOCAL1/web-1/", headers: auth).status == .notFound)
                #expect(try await client.call(.get, "/test/localhost/guests", headers: auth).status == .forbidden)
            }
        }
    }

    @Test func theCommandPrintsATokenTheServerTakesAndAuditsIt() async throws {
        try await AuditLogTests.withFile { path in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gh-token-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("guesthouse.toml").path
            try """
            [server]
            token_secret = "\(Delegation.secret)"
            audit_log = "\(path)"

            [user.admin]
            password = "\(TestServer.passwordHash)"
            """.write(toFile: file, atomically: true, encoding: .utf8)
            let result = try CommandResult.run(CommandResult.guesthouse,
                                               ["token", "create", "--config", file, "--user", "admin", "--expires", "2h", "--read-only"])
            #expect(result.status == 0, "\(result.stderr)")
            let token = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let claims = try await Self.tokens().verify(token)
            #expect(claims.sub.value == "admin" && claims.ro.value)
            let lifetime = claims.exp.value.timeIntervalSinceNow
            #expect(lifetime > 7000 && lifetime <= 7200)
            let lines = try await AuditLogTests.lines(path, atLeast: 1)
            let line = try #require(lines.first { $0["interface"] as? String == "cli" })
            #expect(line["action"] as? String == "token create")
            #expect(line["token"] as? String == claims.jti.value)
            #expect(line["result"] as? String == "ok")
            #expect(!(try String(contentsOfFile: path, encoding: .utf8)).contains(token))
            let unknown = try CommandResult.run(CommandResult.guesthouse, ["token", "create", "--config", file, "--user", "nobody"])
            #expect(unknown.status != 0)
            #expect(unknown.stderr.contains("[user.nobody]"))
        }
    }

    @Test(arguments: [("30d", 2_592_000), ("12h", 43_200), ("90m", 5400), ("45", 45), ("2w", 1_209_600)])
    func lifetimesParse(text: String, seconds: Int64) {
        #expect(APITokens.lifetime(text) == .seconds(seconds))
    }

    @Test(arguments: ["", "d", "-1d", "0", "1y", "9999999999999999999d"])
    func badLifetimesAreRefused(text: String) {
        #expect(APITokens.lifetime(text) == nil)
    }
}
