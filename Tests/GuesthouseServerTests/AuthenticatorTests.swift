import GuesthouseConfig
import GuesthouseCore
import GuesthouseServer
import HummingbirdBcrypt
import Synchronization
import Testing

@Suite struct AuthenticatorTests {
    final class Counter: Sendable {
        let calls = Atomic<Int>(0)
    }

    func authenticator(_ counter: Counter) -> Authenticator {
        Authenticator(users: ["admin": UserConfig(name: "admin", passwordHash: TestServer.passwordHash)]) { password, hash in
            counter.calls.add(1, ordering: .relaxed)
            return Bcrypt.verify(password, hash: hash)
        }
    }

    @Test func bcryptIsPaidOncePerCredentialNotPerRequest() async throws {
        let counter = Counter()
        let auth = authenticator(counter)
        let right = Credentials(username: "admin", password: TestServer.password)
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await auth.authenticate(right) } }
            for try await user in group { #expect(user == "admin") }
        }
        for _ in 0..<20 { _ = try await auth.authenticate(right) }
        #expect(counter.calls.load(ordering: .relaxed) == 1)
    }

    @Test func aWrongPasswordIsNeverCachedAsRight() async throws {
        let counter = Counter()
        let auth = authenticator(counter)
        _ = try await auth.authenticate(Credentials(username: "admin", password: TestServer.password))
        for _ in 0..<3 {
            await #expect(throws: GuesthouseError.self) {
                try await auth.authenticate(Credentials(username: "admin", password: "wrong"))
            }
        }
        await #expect(throws: GuesthouseError.self) {
            try await auth.authenticate(Credentials(username: "nobody", password: TestServer.password))
        }
        await #expect(throws: GuesthouseError.self) { try await auth.authenticate(nil) }
        #expect(try await auth.authenticate(Credentials(username: "admin", password: TestServer.password)) == "admin")
    }
}
