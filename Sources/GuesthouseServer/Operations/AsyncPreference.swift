import Foundation
import GuesthouseCore
import HTTPTypes
import Hummingbird

/// RFC 7240's `Prefer: respond-async`, and the 202 answer that starts an operation for it.
enum AsyncPreference {
    static let prefer = HTTPField.Name("Prefer")!
    static let applied = HTTPField.Name("Preference-Applied")!

    /// Whether the request prefers an asynchronous answer (any `Prefer` field listing respond-async).
    static func requested(_ request: Request) -> Bool {
        request.headers[values: prefer].contains { value in
            value.split(separator: ",").contains { preference in
                preference.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "respond-async"
            }
        }
    }

    /// Starts `work` as an operation owned by the request's credentials and answers 202 with its
    /// status, `Location: /operations/{id}` and `Preference-Applied: respond-async`.
    static func start(_ registry: OperationRegistry, request: Request, kind: String, total: UInt64 = 0,
                      scratch: ScratchDirectory? = nil,
                      work: @escaping @Sendable (TransferProgress) async throws -> OperationOutcome) async throws -> Response {
        let owner = try OperationRoutes.owner(request)
        let progress = TransferProgress(total: total)
        let id = try await registry.start(owner: owner, kind: kind, progress: progress, scratch: scratch, work: work)
        let status = try await registry.status(id: id, owner: owner)
        return OperationRoutes.response(status, code: .accepted,
                                        headers: [.location: "/operations/\(id)", applied: "respond-async"])
    }
}
