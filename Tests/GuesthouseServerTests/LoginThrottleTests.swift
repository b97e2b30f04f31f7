import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseServer
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// Throttled logins over real HTTP: per user name, per client address, `trusted_proxies`.
@Suite struct LoginThrottleTests {
    static let guest = "/test/localhost/guests/6f1e8f2a-0000-4000-8000-000000000002"

    static func token(_ user: String, _ password: String) -> HTTPFields {
        [.init("x-simplestack-hypervisor-token")!: Data("\(user):\(password)".utf8).base64EncodedString()]
    }

    static func server(perUser: Int = 100, perAddress: Int = 1000, trusted: [String] = []) throws -> TestServer {
        try TestServer.vmango { config in
            config.users["other"] = UserConfig(name: "other", passwordHash: TestServer.passwordHash)
            config.server.loginFailuresPerUser = perUser
            config.server.loginFailuresPerAddress = perAddress
            config.server.loginWindowSeconds = 60
            config.server.trustedProxies = trusted
        }
    }

    /// The `Retry-After` of a 429, checked to be whole seconds within the window.
    static func retryAfter(_ headers: HTTPFields) -> Int? {
        guard let text = headers[.init("Retry-After")!], let seconds = Int(text), (1...60).contains(seconds) else { return nil }
        return seconds
    }

    @Test func aUserIsRefusedAfterItsFailuresInEachAPIsShapeAndOthersAreNot() async throws {
        try await Self.server(perUser: 3).run { (client: any TestClientProtocol) async throws in
            for _ in 0..<3 {
                #expect(try await client.call(.get, Self.guest, headers: Self.token("admin", "wrong")).status == .unauthorized)
            }
            // Now even the right password is refused, before bcrypt, in Simplestack's shape...
            let refused = try await client.call(.get, Self.guest, headers: Self.token("admin", TestServer.password))
            #expect(refused.status == .tooManyRequests)
            #expect(Self.retryAfter(refused.headers) != nil)
            #expect(object(refused.json)["error"] as? String == "TooManyRequests")
            // ...in vmango's...
            let vmango = try await client.call(.get, "/api/machines/", headers: TestServer.vmangoAuth)
            #expect(vmango.status == .tooManyRequests)
            #expect(Self.retryAfter(vmango.headers) != nil)
            #expect(client.vmangoError(vmango.json).contains("too many failed logins"))
            // Another user from the same address is unaffected.
            let other = try await client.call(.get, Self.guest, headers: Self.token("other", TestServer.password))
            #expect(other.status == .ok)
            #expect(object(other.json)["id"] as? String == "6f1e8f2a-0000-4000-8000-000000000002")
        }
    }

    @Test func theWebLoginPageAnswers429WithItsMessage() async throws {
        var server = try Self.server(perUser: 2)
        server.config.server.sessionSecret = "test-secret-\(UUID().uuidString)"
        try await server.run { (client: any TestClientProtocol) async throws in
            func post(_ password: String) async throws -> WebUITests.Page {
                let form = try await WebUITests.request(client, .get, "/login/")
                let token = try #require(form.csrf)
                return try await WebUITests.request(client, .post, "/login/", cookies: ["guesthouse_login": token],
                                                    form: ["csrf": token, "Username": "admin", "Password": password])
            }
            #expect(try await post("wrong").status == .unauthorized)
            #expect(try await post("wrong").status == .unauthorized)
            let refused = try await post(TestServer.password)
            #expect(refused.status == .tooManyRequests)
            #expect(Self.retryAfter(refused.headers) != nil)
            #expect(refused.text.contains("Too many failed logins"))
            #expect(refused.text.contains("name=\"Password\""))
            #expect(refused.cookies["guesthouse_session"] == nil)
        }
    }

    @Test func anAddressIsRefusedAfterItsFailuresAndForwardedForFromAnUntrustedPeerIsIgnored() async throws {
        try await Self.server(perAddress: 4).run { (client: any TestClientProtocol) async throws in
            for i in 0..<4 {
                var headers = Self.token("nobody-\(UUID().uuidString)", "wrong")
                headers[.init("X-Forwarded-For")!] = "198.51.100.\(i)"
                #expect(try await client.call(.get, Self.guest, headers: headers).status == .unauthorized)
            }
            var headers = Self.token("other", TestServer.password)
            headers[.init("X-Forwarded-For")!] = "198.51.100.200"
            let refused = try await client.call(.get, Self.guest, headers: headers)
            #expect(refused.status == .tooManyRequests)
            #expect(Self.retryAfter(refused.headers) != nil)
        }
    }

    @Test func forwardedForFromATrustedProxyCountsPerClient() async throws {
        try await Self.server(perAddress: 3, trusted: ["127.0.0.0/8", "::1"]).run { (client: any TestClientProtocol) async throws in
            func call(_ user: String, _ password: String, from: String) async throws -> HTTPResponse.Status {
                var headers = Self.token(user, password)
                headers[.init("X-Forwarded-For")!] = from
                return try await client.call(.get, Self.guest, headers: headers).status
            }
            for i in 0..<3 {
                #expect(try await call("nobody-\(i)", "wrong", from: "203.0.113.7") == .unauthorized)
            }
            #expect(try await call("admin", TestServer.password, from: "203.0.113.7") == .tooManyRequests)
            // A proxy chain: the hop nearest the trusted proxy is the client, whatever the client claims.
            #expect(try await call("admin", TestServer.password, from: "203.0.113.8, 203.0.113.7, 127.0.0.1") == .tooManyRequests)
            #expect(try await call("admin", TestServer.password, from: "203.0.113.7, 203.0.113.8") == .ok)
            #expect(try await call("admin", TestServer.password, from: "203.0.113.9") == .ok)
        }
    }

    final class Counter: Sendable {
        let calls = Atomic<Int>(0)
    }

    @Test func refusalsCostNoBcryptAndTheTablesStayBounded() async throws {
        let counter = Counter()
        let auth = Authenticator(users: ["admin": UserConfig(name: "admin", passwordHash: TestServer.passwordHash)],
                                 throttle: LoginThrottle(perUser: 2, perAddress: 1000, refusalDelay: .zero)) { password, hash in
            counter.calls.add(1, ordering: .relaxed)
            return Bcrypt.verify(password, hash: hash)
        }
        try await RequestOrigin.$current.withValue(RequestOrigin(address: "192.0.2.1")) { () async throws in
            for _ in 0..<2 { #expect(try await auth.verify(Credentials(username: "admin", password: "wrong")) == false) }
            for _ in 0..<10 {
                do {
                    _ = try await auth.verify(Credentials(username: "admin", password: TestServer.password))
                    Issue.record("a throttled login was checked")
                } catch let error as GuesthouseError {
                    #expect(error.kind == .tooManyRequests)
                    #expect((1...60).contains(error.retryAfter ?? 0))
                }
            }
        }
        #expect(counter.calls.load(ordering: .relaxed) == 2)
        let throttle = LoginThrottle(perUser: 5, perAddress: 5, capacity: 100)
        for i in 0..<5000 { throttle.recordFailure(user: "random-\(i)", address: "10.0.\(i / 256).\(i % 256)") }
        #expect(throttle.sizes.users == 100)
        #expect(throttle.sizes.addresses == 100)
        // The newest entries are the ones kept.
        try throttle.check(user: "random-0", address: nil)
        for _ in 0..<4 { throttle.recordFailure(user: "random-4999", address: nil) }
        #expect(throws: GuesthouseError.self) { try throttle.check(user: "random-4999", address: nil) }
    }
}
