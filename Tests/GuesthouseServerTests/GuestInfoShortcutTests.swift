import Foundation
import GuesthouseConfig
import GuesthouseCore
@testable import GuesthouseServer
import Hummingbird
import HummingbirdBcrypt
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// Guest info past the router's trie (`GuestInfoShortcut`): the same answers, metrics and audit as
/// through the router; and the remembered credential header of `Authenticator`.
@Suite struct GuestInfoShortcutTests {
    static let id = "6f1e8f2a-0000-4000-8000-000000000002"

    @Test func onlyGuestInfoPathsWithAUUIDMatch() {
        let match = GuestInfoShortcut.match("/test/localhost/guests/\(Self.id)")
        #expect(match?.hypervisor == "test")
        #expect(match?.host == "localhost")
        #expect(match?.guestID == Substring(Self.id))
        #expect(match?.pair == "test/localhost")
        #expect(GuestInfoShortcut.match("/KVM/host-1.example/guests/6F1E8F2A-0000-4000-8000-00000000000A") != nil)
        for path in ["/test/localhost/guests/web-1", "/test/localhost/guests/\(Self.id)/", "/test/localhost/guests/\(Self.id)/power",
                     "/test//guests/\(Self.id)", "//localhost/guests/\(Self.id)", "/test/localhost/guest/\(Self.id)x",
                     "/test/localhost/images/\(Self.id)", "/test/a/b/guests/\(Self.id)", "/test/localhost/guests/\(Self.id)0",
                     "/test/localhost/guests/6f1e8f2a-0000-4000-8000_000000000002", "/healthz", "",
                     "/test/localhost/guests/6f1e8f2a-0000-4000-8000-00000000000g"] {
            #expect(GuestInfoShortcut.match(path) == nil, "\(path)")
        }
    }

    @Test func theShortcutAnswersAsTheRouterDoes() async throws {
        try await TestServer().run { client in
            let path = "/test/localhost/guests/\(Self.id)"
            // The first goes through the router (which shows the pair is routed here), the rest not.
            let first = try await client.call(.get, path)
            let again = try await client.call(.get, path)
            #expect(first.status == .ok)
            #expect(again.status == .ok)
            #expect(again.text == first.text)
            #expect(object(again.json)["id"] as? String == Self.id)
            #expect(again.headers[.eTag] != nil)
            #expect(again.headers[.eTag] == first.headers[.eTag])
            #expect(again.headers[.contentType] == "application/json")
            // Errors keep their shape and status: an unknown guest, no credentials, a wrong password.
            let unknown = try await client.call(.get, "/test/localhost/guests/6f1e8f2a-0000-4000-8000-0000000000ff")
            #expect(unknown.status == .notFound)
            #expect(object(unknown.json)["error"] as? String == "EntityNotFound")
            #expect(try await client.call(.get, path, headers: [:]).status == .unauthorized)
            #expect(try await client.call(.get, path, headers: LoginThrottleTests.token("admin", "wrong")).status == .unauthorized)
            // A family the server lacks is the router's 404, however often it is asked.
            for _ in 0..<2 {
                let family = try await client.call(.get, "/nosuch/localhost/guests/\(Self.id)")
                #expect(family.status == .notFound)
                #expect(object(family.json)["error"] as? String == "EntityNotFound")
            }
            // Metrics count every one under the route's template.
            let samples = try MetricsTests.parse(try await client.call(.get, "/metrics").text)
            let route = #"route="/{hypervisor}/{host}/guests/{guest_id}""#
            #expect(MetricsTests.value(samples, #"guesthouse_http_requests_total{method="GET",\#(route),status="200"}"#) == 2)
            #expect(MetricsTests.value(samples, #"guesthouse_http_requests_total{method="GET",\#(route),status="401"}"#) == 2)
            #expect(MetricsTests.value(samples, #"guesthouse_http_requests_total{method="GET",\#(route),status="404"}"#) == 3)
        }
    }

    @Test func refusalsThroughTheShortcutAreAudited() async throws {
        try await AuditLogTests.withFile { path in
            try await AuditLogTests.server(path).run { client in
                let guest = "/test/localhost/guests/\(Self.id)"
                #expect(try await client.call(.get, guest).status == .ok)  // the router: the pair is routed here
                #expect(try await client.call(.get, guest).status == .ok)  // the shortcut
                #expect(try await client.call(.get, guest, headers: LoginThrottleTests.token("admin", "wrong")).status == .unauthorized)
                let lines = try await AuditLogTests.lines(path, atLeast: 1)
                let refusal = AuditLogTests.find(lines, "simplestack", "GET /{hypervisor}/{host}/guests/{guest_id}", status: 401)
                #expect(refusal?["user"] as? String == "admin")
                #expect((refusal?["target"] as? [String: Any])?["guest_id"] as? String == Self.id)
                #expect(lines.count == 1, "\(lines)")  // reads that succeed are not audited
            }
        }
    }

    // MARK: the remembered credential header

    final class Counter: Sendable {
        let calls = Atomic<Int>(0)
        var value: Int { calls.load(ordering: .relaxed) }
    }

    static func authenticator(_ counter: Counter, ttl: Duration = .seconds(300),
                              throttle: LoginThrottle = LoginThrottle()) -> Authenticator {
        Authenticator(users: ["admin": UserConfig(name: "admin", passwordHash: TestServer.passwordHash)], ttl: ttl,
                      throttle: throttle) { password, hash in
            counter.calls.add(1, ordering: .relaxed)
            return Bcrypt.verify(password, hash: hash)
        }
    }

    static func request(_ headers: HTTPFields) -> Request {
        Request(head: HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: "/", headerFields: headers),
                body: .init(buffer: ByteBuffer()))
    }

    static func basic(_ pair: String) -> HTTPFields {
        [.authorization: "Basic " + Data(pair.utf8).base64EncodedString()]
    }

    @Test func aHeaderIsRememberedOnlyOnceItsExactBytesWereVerified() async throws {
        let counter = Counter()
        let auth = Self.authenticator(counter, throttle: LoginThrottle(perUser: 100, perAddress: 1000, refusalDelay: .zero))
        let right = Self.request(TestServer.auth)
        for _ in 0..<5 { #expect(try await auth.authenticate(right).user == "admin") }
        #expect(counter.value == 1)
        // The same pair in another header is decoded and checked (its pair is known: no bcrypt).
        #expect(try await auth.authenticate(Self.request(Self.basic("admin:\(TestServer.password)"))).user == "admin")
        #expect(counter.value == 1)
        // A wrong password, however close to a remembered header, is never answered from it.
        let password = TestServer.password
        for (user, wrong) in [("admin", password + "x"), ("admin", String(password.dropLast())), ("admin ", password)] {
            await #expect(throws: GuesthouseError.self) {
                try await auth.authenticate(Self.request(LoginThrottleTests.token(user, wrong)))
            }
            await #expect(throws: GuesthouseError.self) { try await auth.authenticate(Self.request(Self.basic("\(user):\(wrong)"))) }
        }
        #expect(counter.value == 5)  // each wrong password checked once (a wrong one is never remembered)
        #expect(try await auth.authenticate(right).user == "admin")
    }

    @Test func aRememberedHeaderIsStillThrottledAndExpiresWithItsPassword() async throws {
        let counter = Counter()
        let auth = Self.authenticator(counter, ttl: .milliseconds(200),
                                      throttle: LoginThrottle(perUser: 2, perAddress: 1000, refusalDelay: .zero))
        let right = Self.request(TestServer.auth)
        #expect(try await auth.authenticate(right).user == "admin")
        // Expired with the password's TTL: bcrypt is paid again (polled with a deadline).
        let deadline = ContinuousClock.now + .seconds(10)
        while counter.value < 2, ContinuousClock.now < deadline {
            #expect(try await auth.authenticate(right).user == "admin")
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(counter.value == 2)
        // Two failures for the user: the remembered right header is refused (429) before any cache.
        for _ in 0..<2 {
            await #expect(throws: GuesthouseError.self) {
                try await auth.authenticate(Self.request(LoginThrottleTests.token("admin", "wrong")))
            }
        }
        do {
            _ = try await auth.authenticate(right)
            Issue.record("a throttled user was let in from the remembered header")
        } catch let error as GuesthouseError {
            #expect(error.kind == .tooManyRequests)
        }
    }
}
