import Crypto
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
        if let token = value(.simplestackToken, in: request.headers) {
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

    /// The header `credentials(from:)` reads user and password from, as sent; nil for vmango's two
    /// headers (their pair is not remembered by header) and when there is none.
    struct PresentedHeader {
        /// Which header: 1 the Simplestack token, 2 `Authorization`.
        let kind: UInt8
        let value: String

        /// The SHA-256 of the header's kind and exact bytes: the key its verification is remembered
        /// by (the header, which holds the password in base64, is never kept).
        func digest() -> SHA256Digest {
            var hasher = SHA256()
            withUnsafeBytes(of: kind) { hasher.update(bufferPointer: $0) }
            if value.utf8.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
                hasher.update(data: Array(value.utf8))
            }
            return hasher.finalize()
        }
    }

    static func presentedHeader(_ request: Request) -> PresentedHeader? {
        if let token = value(.simplestackToken, in: request.headers) { return PresentedHeader(kind: 1, value: token) }
        if request.headers[.vmangoUser] != nil, request.headers[.vmangoPass] != nil { return nil }
        return request.headers[.authorization].map { PresentedHeader(kind: 2, value: $0) }
    }

    /// The header's value, as `headers[name]` gives it, without making a string when it is sent once
    /// (HTTPFields joins the values of a name into a new string on every read).
    static func value(_ name: HTTPField.Name, in headers: HTTPFields) -> String? {
        var found: String?
        for field in headers where field.name == name {
            if found != nil { return headers[name] }  // sent more than once: joined, as before
            found = field.value
        }
        return found
    }

    /// The API token of `Authorization: Bearer TOKEN`, if the request carries one.
    static func bearer(from request: Request) -> String? {
        guard let authorization = request.headers[.authorization] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return parts[1].trimmingCharacters(in: .whitespaces)
    }

    private static func decodePair(_ encoded: String, what: String) throws -> Credentials {
        // Trimmed and split on the UTF-8 bytes: going through Characters (grapheme breaking, a
        // reversed view) was an eighth of the guest-info route's time in profiles.
        let bytes = encoded.utf8
        let isBlank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let decoded: Data?
        if let first = bytes.first, let last = bytes.last, !isBlank(first), !isBlank(last) {
            decoded = Data(base64Encoded: encoded)  // the usual case: nothing to trim, no copy
        } else {
            let start = bytes.firstIndex { !isBlank($0) } ?? bytes.endIndex
            let end = bytes[start...].lastIndex { !isBlank($0) }.map { bytes.index(after: $0) } ?? start
            decoded = Data(base64Encoded: Data(bytes[start..<end]))
        }
        guard let data = decoded,
              let colon = data.firstIndex(of: UInt8(ascii: ":")),
              let username = String(validating: data[..<colon], as: UTF8.self),
              let password = String(validating: data[data.index(after: colon)...], as: UTF8.self) else {
            throw GuesthouseError(.unauthorized, "\(what) must be base64 of user:password")
        }
        return Credentials(username: username, password: password)
    }
}
