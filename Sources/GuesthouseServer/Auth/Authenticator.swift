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
/// credential share one bcrypt. A request's credential header (the Simplestack token or HTTP Basic)
/// that was decoded and verified is also remembered by a SHA-256 of its exact bytes, with the user it
/// named and the same expiry, so the next request with the same header skips base64 and the parse.
/// Bcrypt runs on a thread pool, never on Swift's cooperative pool.
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
        /// Verified credential headers (a digest of the header's bytes) and the user each named.
        var headers: [SHA256Digest: (user: String, until: ContinuousClock.Instant)] = [:]
    }

    /// More remembered credential headers than this, and that table starts over.
    static let rememberedHeaders = 4_096

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
        guard let credentials else { throw Self.noCredentials }
        guard try await verify(credentials) else {
            throw GuesthouseError(.unauthorized, "Authentication failed")
        }
        return credentials.username
    }

    private static var noCredentials: GuesthouseError {
        GuesthouseError(.unauthorized, "authentication required: send x-simplestack-hypervisor-token, "
                        + "X-Vmango-User/X-Vmango-Pass or HTTP Basic credentials")
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
        let header = CredentialParsing.presentedHeader(request)
        let user: String
        if let header, let known = try await recentlyVerifiedUser(header) {
            user = known
        } else {
            guard let credentials = try CredentialParsing.credentials(from: request) else { throw Self.noCredentials }
            guard let until = try await verifiedUntil(credentials) else {
                throw GuesthouseError(.unauthorized, "Authentication failed")
            }
            user = credentials.username
            if let header { remember(header, user: user, until: until) }
        }
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
        try await verifiedUntil(credentials) != nil
    }

    /// Until when the credentials count as verified; nil when the password is wrong (counted).
    private func verifiedUntil(_ credentials: Credentials) async throws -> ContinuousClock.Instant? {
        let origin = RequestOrigin.current
        try await checkThrottle(user: credentials.username, origin: origin)
        let until = try await verifyPassword(credentials)
        if until == nil {
            throttle.recordFailure(user: credentials.username, address: origin?.address)
            origin?.note(error: GuesthouseError(.unauthorized, "Authentication failed"))
        }
        return until
    }

    /// Notes the user the request tries and refuses it (429, after the refusal delay) when the
    /// throttle says so: before any cache answers.
    private func checkThrottle(user: String, origin: RequestOrigin?) async throws {
        origin?.note(user: user)
        do {
            try throttle.check(user: user, address: origin?.address)
        } catch let error as GuesthouseError {
            origin?.note(error: error)
            if throttle.refusalDelay > .zero { try? await Task.sleep(for: throttle.refusalDelay) }
            throw error
        }
    }

    /// The user a credential header named when these exact bytes were verified and that has not
    /// expired; nil when unknown (then the header is decoded and checked as usual). The throttle is
    /// asked first, as for any attempt.
    private func recentlyVerifiedUser(_ header: CredentialParsing.PresentedHeader) async throws -> String? {
        let key = header.digest()
        let now = ContinuousClock.now
        guard let user = state.withLock({ state -> String? in
            guard let entry = state.headers[key] else { return nil }
            guard entry.until > now else {
                state.headers[key] = nil
                return nil
            }
            return entry.user
        }) else { return nil }
        try await checkThrottle(user: user, origin: RequestOrigin.current)
        return user
    }

    /// Remembers that the credential header named `user`, whose password was verified until `until`.
    private func remember(_ header: CredentialParsing.PresentedHeader, user: String, until: ContinuousClock.Instant) {
        let key = header.digest()
        state.withLock { state in
            if state.headers.count >= Self.rememberedHeaders { state.headers.removeAll(keepingCapacity: true) }
            state.headers[key] = (user, until)
        }
    }

    /// Until when the password counts as right (bcrypt's answer, remembered for the TTL); nil when wrong.
    private func verifyPassword(_ credentials: Credentials) async throws -> ContinuousClock.Instant? {
        guard let hash = users[credentials.username] else { return nil }
        var hasher = SHA256()
        hasher.update(data: Data(credentials.username.utf8))
        hasher.update(data: [0])
        hasher.update(data: Data(credentials.password.utf8))
        let key = hasher.finalize()
        let now = ContinuousClock.now
        // The hot path (a credential verified recently) takes the lock once and makes no task.
        let found: (until: ContinuousClock.Instant?, task: Task<Bool, Never>?) = state.withLock { state in
            if let until = state.verified[key], until > now { return (until, nil) }
            if let pending = state.pending[key] { return (nil, pending) }
            let pool = self.pool
            let check = self.check
            let password = credentials.password
            let task = Task<Bool, Never> {
                (try? await pool.runIfActive { check(password, hash) }) ?? false
            }
            state.pending[key] = task
            return (nil, task)
        }
        if let until = found.until { return until }
        guard let task = found.task else { return nil }
        let ok = await task.value
        return state.withLock { state -> ContinuousClock.Instant? in
            state.pending[key] = nil
            guard ok else { return nil }
            // A concurrent check of the same credential may have stored it already: keep the first expiry.
            if let until = state.verified[key], until > ContinuousClock.now { return until }
            let until = ContinuousClock.now + ttl
            state.verified[key] = until
            return until
        }
    }
}
