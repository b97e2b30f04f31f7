import Foundation
import GuesthouseCore
import Hummingbird

/// `GET /api/audit`: the audit log read back, oldest first, filtered and paged; for admins only.
struct AuditRoutes: Sendable {
    let log: AuditLog
    let authenticator: Authenticator

    static let entrySchema: Schema = .object([
        "time": .string(description: "RFC 3339, UTC"), "user": .string(), "interface": .string(
            enumeration: ["simplestack", "vmango", "web", "containers", "operations", "wirt", "cli"]),
        "source": .string(description: "the client's address"),
        "action": .string(description: "method and route template"),
        "target": .object([:]), "result": .string(description: "ok, or the error"), "status": .integer(),
        "token": .string(description: "the id of the API token the request came with"),
    ], required: ["time", "user", "interface", "source", "action", "target", "result", "status"])

    struct Page: Encodable {
        var entries: [AuditEntry]
        var next_offset: Int?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(entries, forKey: .entries)
            try c.encode(next_offset, forKey: .next_offset)
        }

        enum CodingKeys: CodingKey { case entries, next_offset }
    }

    func register(_ api: APIRoutes<GuesthouseContext>) {
        var operation = Operation(.get, "/api/audit", id: "auditLog", summary: "The audit log, oldest first, paged",
                                  tag: "audit", success: (200, .object([
                                      "entries": .array(.ref("AuditEntry")),
                                      "next_offset": .nullable(.integer(description: "the offset of the next page; null at the end")),
                                  ], required: ["entries", "next_offset"])), errors: [400, 404])
        operation.queryParameters = [
            ("since", "only entries at or after this RFC 3339 time"), ("user", "only this user's entries"),
            ("limit", "at most this many entries (1 to 1000, default 100)"), ("offset", "skip this many matching entries"),
        ]
        operation.parameterSchemas = ["since": .dateTime, "limit": .bounded(Self.limits), "offset": .bounded(Self.offsets)]
        api.add(operation) { request, _ in
            do {
                try await authenticator.authenticate(request).requireAdmin("the audit log")
            } catch let error as GuesthouseError where error.kind == .unauthorized {
                throw GuesthouseError(.unauthorized, "Authentication failed")
            }
            let query = request.uri.queryParameters
            var since: Date?
            if let text = query.get("since") {
                guard let date = RFC3339Time.parse(text) else {
                    throw GuesthouseError.invalid("since must be an RFC 3339 time, e.g. 2026-11-30T16:00:00Z")
                }
                since = date
            }
            let limit = try Self.number(query.get("limit"), "limit", default: 100, range: Self.limits)
            let offset = try Self.number(query.get("offset"), "offset", default: 0, range: Self.offsets)
            let (entries, next) = try await log.read(since: since, user: query.get("user"), offset: offset, limit: limit)
            return JSONResponse.make(Page(entries: entries, next_offset: next))
        }
    }

    static let limits = 1...1000
    static let offsets = 0...Int.max

    private static func number(_ text: String?, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw GuesthouseError.invalid("\(name) must be an integer from \(range.lowerBound)\(range.upperBound == .max ? " up" : " to \(range.upperBound)")")
        }
        return n
    }
}
