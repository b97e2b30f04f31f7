import Crypto
import Foundation
import GuesthouseConfig
import GuesthouseCore
import Hummingbird
import HummingbirdBcrypt
import NIOPosix

/// Checks server users' passwords (bcrypt) and remembers the ones that were right, so that bcrypt
/// is paid once per credential, not per request. Only successes are remembered, keyed by a SHA-256
/// of user and password (the password itself is never kept); concurrent checks of the same
/// credential share one bcrypt. Bcrypt runs on a thread pool, never on Swift's cooperative pool.
/// Failed logins are counted by a `LoginThrottle` (per user name and per client address, taken
/// from `RequestOrigin.current`); once it refuses, attempts answer 429 before any cache or bcrypt,
/// so a throttled guesser learns nothing, not even from a cached right password.
public final class Authenticator: Sendable {
    private let users: [String: String]
    private let accounts: [String: UserConfig]
    /// Verifies `Authorization: Bearer` API tokens.
    public let tokens: APITokens?
    private let ttl: Duration
    private let pool: NIOThreadPool
    private let check: @Sendable (String, String) -> Bool
    /// Counts failed logins and refuses floods of them.
    public let throttle: LoginThrottle
    private let state = Locked(State())

    private struct State {
        var verified: [SHA256Digest: ContinuousClock.Instant] = [:]
        var pending: [SHA256Digest: Task<Bool, Never>] = [:]
    }

    /// - Parameters:
    ///   - users: the `[user.*]` blocks.
    ///   - ttl: how long a verified credential is trusted before bcrypt is paid again.
    ///   - check: the password check (bcrypt); replaceable so tests can count its calls.
    ///   - throttle: the failed-login limits (`LoginThrottle(config.server)`).
    public init(users: [String: UserConfig], ttl: Duration = .seconds(300), pool: NIOThreadPool = .singleton,
                throttle: LoginThrottle = LoginThrottle(), tokens: APITokens? = nil,
                check: @escaping @Sendable (_ password: String, _ hash: String) -> Bool = { Bcrypt.verify($0, hash: $1) }) {
        self.users = users.mapValues(\.passwordHash)
        self.accounts = users
        self.tokens = tokens
        self.throttle = throttle
        self.ttl = ttl
        self.pool = pool
        self.check = check
    }

    /// The user's name when the password is right.
    /// - Throws: `GuesthouseError.unauthorized` otherwise.
    public func authenticate(_ credentials: Credentials?) async throws -> String {
        guard let credentials else {
            throw GuesthouseError(.unauthorized, "authentication required: send x-simplestack-hypervisor-token, "
                                  + "X-Vmango-User/X-Vmango-Pass or HTTP Basic credentials")
        }
        guard try await verify(credentials) else {
            throw GuesthouseError(.unauthorized, "Authentication failed")
        }
        return credentials.username
    }

    /// The users, login limits and API tokens (`token_secret`, `revoked_tokens`) of `config`.
    public convenience init(config: Config) {
        self.init(users: config.users, throttle: LoginThrottle(config.server), tokens: APITokens(config.server))
    }

    /// The configured role of `user`; nil for a name that is not a configured user.
    public func role(of user: String) -> UserRole? { accounts[user]?.role }

    /// The principal `user` is, by the configuration (a user no longer configured is a member
    /// owning nothing visible to others).
    public func principal(_ user: String, tokenID: String? = nil, readOnly: Bool = false) -> Principal {
        let account = accounts[user]
        return Principal(user: user, role: account?.role ?? .member, quota: account?.quota, tokenID: tokenID,
                         readOnly: readOnly)
    }

    /// Authenticates a request by its API token (`Authorization: Bearer`) or its credentials, and
    /// notes the principal in the request's origin. A read-only token asking for a change is refused.
    /// - Throws: `unauthorized` (no, wrong, expired, tampered or revoked credentials), `forbidden`
    ///   (a read-only token and a change), `tooManyRequests` (throttled).
    @discardableResult
    public func authenticate(_ request: Request) async throws -> Principal {
        if let token = CredentialParsing.bearer(from: request) {
            return try await authenticate(token: token)
        }
        let user = try await authenticate(try CredentialParsing.credentials(from: request))
        let principal = principal(user)
        RequestOrigin.current?.note(principal: principal)
        return principal
    }

    /// Authenticates an API token and notes its principal.
    public func authenticate(token: String) async throws -> Principal {
        let origin = RequestOrigin.current
        do {
            guard let tokens else { throw GuesthouseError(.unauthorized, "API tokens are not enabled on this server") }
            let claims = try await tokens.verify(token)
            guard users[claims.sub.value] != nil else {
                throw GuesthouseError(.unauthorized, "the API token's user \(claims.sub.value) is not configured")
            }
            let principal = principal(claims.sub.value, tokenID: claims.jti.value, readOnly: claims.ro.value)
            origin?.note(principal: principal)
            if principal.readOnly, origin?.isChange == true {
                throw GuesthouseError(.forbidden, "the API token \(claims.jti.value) is read-only")
            }
            return principal
        } catch let error as GuesthouseError {
            origin?.note(error: error)
            throw error
        }
    }

    /// Whether the password is right for the user, using the cache where it can. A wrong one is
    /// counted against the user name and the request's client address.
    /// - Throws: `GuesthouseError.tooManyRequests` when the throttle refuses the attempt.
    public func verify(_ credentials: Credentials) async throws -> Bool {
        let origin = RequestOrigin.current
        origin?.note(user: credentials.username)
        do {
            try throttle.check(user: credentials.username, address: origin?.address)
        } catch let error as GuesthouseError {
            origin?.note(error: error)
            if throttle.refusalDelay > .zero { try? await Task.sleep(for: throttle.refusalDelay) }
            throw error
        }
        let ok = try await verifyPassword(credentials)
        if !ok {
            throttle.recordFailure(user: credentials.username, address: origin?.address)
            origin?.note(error: GuesthouseError(.unauthorized, "Authentication failed"))
        }
        return ok
    }

    private func verifyPassword(_ credentials: Credentials) async throws -> Bool {
        guard let hash = users[credentials.username] else { return false }
        var hasher = SHA256()
        hasher.update(data: Data(credentials.username.utf8))
        hasher.update(data: [0])
        hasher.update(data: Data(credentials.password.utf8))
        let key = hasher.finalize()
        let now = ContinuousClock.now
        // The hot path (a credential verified recently) takes the lock once and makes no task.
        let task: Task<Bool, Never>? = state.withLock { state in
            if let until = state.verified[key], until > now { return nil }
            if let pending = state.pending[key] { return pending }
            let pool = self.pool
            let check = self.check
            let password = credentials.password
            let task = Task<Bool, Never> {
                (try? await pool.runIfActive { check(password, hash) }) ?? false
            }
            state.pending[key] = task
            return task
        }
        guard let task else { return true }
        let ok = await task.value
        state.withLock { state in
            state.pending[key] = nil
            if ok { state.verified[key] = ContinuousClock.now + ttl }
        }
        return ok
    }
}
