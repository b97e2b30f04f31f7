import Foundation
import GuesthouseConfig
import GuesthouseCore
import JWTKit

/// The claims of an API token: who it acts as (`sub`), its id (`jti`, what `revoked_tokens` lists
/// and the audit log names), when it expires (`exp`) and whether it may only read (`ro`).
public struct APITokenClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var jti: IDClaim
    public var exp: ExpirationClaim
    public var ro: BoolClaim

    public init(user: String, id: String, expires: Date, readOnly: Bool) {
        sub = SubjectClaim(value: user)
        jti = IDClaim(value: id)
        exp = ExpirationClaim(value: expires)
        ro = BoolClaim(value: readOnly)
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Signs and verifies API tokens (HS256 JWTs) with `[server] token_secret`; any replica with the
/// same secret verifies a token another signed. A token is refused (401) when its signature is
/// wrong, it has expired, its id is in `revoked_tokens`, or its user is no longer configured.
/// The secret is never logged or put in an error.
public struct APITokens: Sendable {
    /// The key collection (an actor, filled once, asynchronously).
    private let collection: Task<JWTKeyCollection, Never>?
    private let revoked: Set<String>

    /// Tokens of `server`: none are accepted without `token_secret`.
    public init(_ server: ServerConfig) {
        revoked = Set(server.revokedTokens)
        collection = server.tokenSecret.map { secret in
            Task { await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256) }
        }
    }

    private var keys: JWTKeyCollection? {
        get async { await collection?.value }
    }

    /// A new token for `user`, valid for `lifetime`.
    /// - Throws: `invalidArguments` without a `token_secret`.
    public func sign(user: String, lifetime: Duration, readOnly: Bool,
                     id: String = UUID().uuidString.lowercased()) async throws -> (token: String, claims: APITokenClaims) {
        let claims = APITokenClaims(user: user, id: id,
                                    expires: Date().addingTimeInterval(Double(lifetime.components.seconds)),
                                    readOnly: readOnly)
        return (try await sign(claims), claims)
    }

    /// `claims` signed as they are (tests use it for tokens that have already expired).
    public func sign(_ claims: APITokenClaims) async throws -> String {
        guard let keys = await keys else {
            throw GuesthouseError.invalid("[server] token_secret is not set: no token can be signed")
        }
        return try await keys.sign(claims)
    }

    /// The claims of a valid token.
    /// - Throws: `unauthorized` for a token that is malformed, tampered with, expired or revoked.
    public func verify(_ token: String) async throws -> APITokenClaims {
        guard let keys = await keys else { throw GuesthouseError(.unauthorized, "API tokens are not enabled on this server") }
        let claims: APITokenClaims
        do {
            claims = try await keys.verify(token, as: APITokenClaims.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw GuesthouseError(.unauthorized, "the API token has expired")
        } catch {
            throw GuesthouseError(.unauthorized, "the API token is not valid")
        }
        guard !revoked.contains(claims.jti.value) else {
            throw GuesthouseError(.unauthorized, "the API token \(claims.jti.value) is revoked")
        }
        return claims
    }

    /// Parses a lifetime such as `30d`, `12h`, `90m` or `3600s` (a bare number is seconds).
    public static func lifetime(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let scale = units[last] {
            unit = scale
            digits = digits.dropLast()
        }
        guard let n = Int64(digits), n > 0, n <= Int64.max / unit / 2 else { return nil }
        return .seconds(n * unit)
    }
}
