import Crypto
import Foundation

/// A web UI session, kept entirely in a cookie signed with `[server] session_secret` (HMAC-SHA256):
/// no server-side store, so any replica with the same secret serves it. It carries the user, its
/// expiry and the CSRF token every form of the session must send back.
struct WebSession: Codable, Equatable, Sendable {
    var user: String
    /// Seconds since 1970.
    var expires: Double
    var csrf: String

    static let cookieName = "guesthouse_session"
    /// The login form's own CSRF token lives in this cookie (double submit) until a session exists.
    static let loginCookieName = "guesthouse_login"
    static let lifetime: Double = 12 * 3600

    init(user: String, now: Date = Date()) {
        self.user = user
        self.expires = now.timeIntervalSince1970 + Self.lifetime
        self.csrf = Self.randomToken()
    }

    /// 32 random bytes, base64url.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64URL
    }
}

/// Signs and checks session cookies.
struct SessionCodec: Sendable {
    private let key: SymmetricKey

    init(secret: String) {
        // The secret is stretched to a fixed-size key so short and long secrets behave alike.
        key = SymmetricKey(data: SHA256.hash(data: Data(("guesthouse-session:" + secret).utf8)))
    }

    /// `payload.signature`, both base64url.
    func encode(_ session: WebSession) -> String {
        let payload = (try? JSONEncoder().encode(session)) ?? Data()
        let signature = HMAC<SHA256>.authenticationCode(for: payload, using: key)
        return payload.base64URL + "." + Data(signature).base64URL
    }

    /// The session when the signature is right and it has not expired.
    func decode(_ value: String, now: Date = Date()) -> WebSession? {
        let parts = value.split(separator: ".")
        guard parts.count == 2, let payload = Data(base64URL: String(parts[0])),
              let signature = Data(base64URL: String(parts[1])),
              HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: payload, using: key),
              let session = try? JSONDecoder().decode(WebSession.self, from: payload),
              session.expires > now.timeIntervalSince1970 else { return nil }
        return session
    }
}

/// Compares secrets in time independent of where they differ.
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<x.count { difference |= x[i] ^ y[i] }
    return difference == 0
}

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
