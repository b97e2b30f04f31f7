import Foundation
import GuesthouseCore
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let simplestackToken = Self("x-simplestack-hypervisor-token")!
    static let vmangoUser = Self("X-Vmango-User")!
    static let vmangoPass = Self("X-Vmango-Pass")!
    /// A web UI session's CSRF token, for JSON API changes made with its cookie.
    static let csrfToken = Self("X-CSRF-Token")!
}

/// Reads credentials from a request: the Simplestack token (`base64(user:password)`), vmango's
/// `X-Vmango-User`/`X-Vmango-Pass` headers, or HTTP Basic. The password may contain ':'.
enum CredentialParsing {
    static func credentials(from request: Request) throws -> Credentials? {
        if let token = request.headers[.simplestackToken] {
            return try decodePair(token, what: "x-simplestack-hypervisor-token")
        }
        if let user = request.headers[.vmangoUser], let pass = request.headers[.vmangoPass] {
            return Credentials(username: user, password: pass)
        }
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "basic" {
                return try decodePair(String(parts[1]), what: "Authorization")
            }
        }
        return nil
    }

    /// The API token of `Authorization: Bearer TOKEN`, if the request carries one.
    static func bearer(from request: Request) -> String? {
        guard let authorization = request.headers[.authorization] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    private static func decodePair(_ encoded: String, what: String) throws -> Credentials {
        // Trimmed by hand: Foundation's trimmingCharacters bridges through NSString (seen in profiles).
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        let trimmed = encoded.drop(while: blank).reversed().drop(while: blank).reversed()
        guard let data = Data(base64Encoded: String(trimmed)),
              let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":") else {
            throw GuesthouseError(.unauthorized, "\(what) must be base64 of user:password")
        }
        return Credentials(username: String(text[..<colon]), password: String(text[text.index(after: colon)...]))
    }
}
