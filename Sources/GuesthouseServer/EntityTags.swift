import Crypto
import Foundation
import GuesthouseCore
import Hummingbird

/// Optimistic concurrency for clients, as Incus does it: every GET of a guest, disk, NIC,
/// snapshot or vmango machine carries an `ETag`, and the changes of that resource (PUT, DELETE,
/// POST actions) honour `If-Match`.
///
/// The tag is a hash of the resource's JSON as the GET renders it (sorted keys): every replica
/// renders the same JSON for the same libvirt state, so every replica gives the same tag, and
/// the tag changes whenever anything the client sees changes.
enum EntityTag {
    /// The strong entity tag of a representation: the first 128 bits of its SHA-256 in hex,
    /// quoted. About a microsecond for a guest's JSON (it is on the guest info route).
    static func of(_ body: some DataProtocol) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(34)
        for byte in SHA256.hash(data: body).prefix(16) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }
}

/// The `If-Match` precondition of a change.
enum IfMatch {
    /// The entity tags the request's `If-Match` names; nil when it has none or `*` (then the
    /// change goes ahead as without the header).
    static func tags(_ request: Request) -> [String]? {
        let values = request.headers[values: .ifMatch]
        guard !values.isEmpty else { return nil }
        let tags = values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return tags.contains("*") ? nil : tags
    }

    /// Checks the request's `If-Match` against the resource's current representation (read by
    /// `current`, as its GET renders it). A tag that no longer matches, or a resource that is
    /// gone, is `preconditionFailed` (412) and nothing is changed. Weak tags never match (RFC 9110's
    /// strong comparison).
    static func check(_ request: Request, _ what: String, current: () async throws -> Data) async throws {
        guard let tags = tags(request) else { return }
        let body: Data
        do {
            body = try await current()
        } catch let error as GuesthouseError where error.kind == .entityNotFound {
            throw GuesthouseError(.preconditionFailed, "If-Match: \(what) no longer exists (\(error.message))")
        }
        let tag = EntityTag.of(body)
        guard tags.contains(tag) else {
            throw GuesthouseError(.preconditionFailed,
                                  "If-Match: \(what) changed since it was read; its ETag is now \(tag); read it again")
        }
    }
}
