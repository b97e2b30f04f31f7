import Foundation
import GuesthouseCore
import Hummingbird
import NIOCore

/// `/operations/{id}`: the status of a long transfer, its cancel, and an export's archive.
/// Only the credentials that started an operation see it (others get 404); credentials that are
/// neither a user of this server nor the owner of any operation get 401.
struct OperationRoutes: Sendable {
    let registry: OperationRegistry
    let authenticator: Authenticator

    static let schema: Schema = .object([
        "id": .string(), "kind": .string(),
        "state": .string(enumeration: ["running", "succeeded", "failed", "cancelled"]),
        "bytes_done": .integer(), "bytes_total": .integer(),
        "location": .string(), "result": .string(),
        "error": .ref("Error"),
    ], required: ["id", "kind", "state", "bytes_done", "bytes_total"])

    func register(_ api: APIRoutes<GuesthouseContext>) {
        api.add(Operation(.get, "/operations/{operation_id}", id: "operationStatus",
                          summary: "A long transfer's state, bytes done and total, result location and error",
                          tag: "operations", success: (200, .ref("Operation")), errors: [404])) { request, context in
            let status = try await registry.status(id: try context.parameters.require("operation_id"),
                                                   owner: try await authenticatedOwner(request))
            return Self.response(status)
        }
        api.add(Operation(.delete, "/operations/{operation_id}", id: "operationCancel",
                          summary: "Cancel a running operation (its partial volumes are removed) or forget a finished one",
                          tag: "operations", success: (200, .ref("Operation")), errors: [404])) { request, context in
            let status = try await registry.cancel(id: try context.parameters.require("operation_id"),
                                                   owner: try await authenticatedOwner(request))
            return Self.response(status)
        }
        var result = Operation(.get, "/operations/{operation_id}/result", id: "operationResult",
                               summary: "The archive a finished export operation spooled", tag: "operations",
                               success: (200, .binary), errors: [404, 409])
        result.successMediaType = "application/x-tar"
        api.add(result) { request, context in
            let (path, name) = try await registry.resultFile(id: try context.parameters.require("operation_id"),
                                                             owner: try await authenticatedOwner(request))
            return try FileBody.response(path: path, contentType: "application/x-tar",
                                         disposition: "attachment; filename=\"\(name)\"")
        }
    }

    /// The owner key of the request's credentials: 401 without any, or for credentials that are
    /// not a user of this server and own no operation (a hypervisor that checks credentials itself,
    /// such as ESX, started operations for users this server does not know).
    func authenticatedOwner(_ request: Request) async throws -> String {
        let owner = try Self.owner(request)
        if await registry.hasOperations(of: owner) { return owner }
        try await authenticator.authenticate(request)
        return owner
    }

    /// The owner key of the request's credentials; 401 without any.
    static func owner(_ request: Request) throws -> String {
        if let token = CredentialParsing.bearer(from: request) {
            return OperationRegistry.owner(Credentials(username: "\u{0}bearer", password: token))
        }
        guard let credentials = try CredentialParsing.credentials(from: request) else {
            throw GuesthouseError(.unauthorized, "authentication required: send the credentials that started the operation")
        }
        return OperationRegistry.owner(credentials)
    }

    static func response(_ status: OperationStatus, code: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var response = JSONResponse.make(OperationBody(status), status: code)
        for field in extra { response.headers.append(field) }
        return response
    }
}

/// The wire shape of an operation.
struct OperationBody: Encodable {
    struct Failure: Encodable {
        var error: String
        var message: String
    }
    var id: String
    var kind: String
    var state: String
    var bytes_done: UInt64
    var bytes_total: UInt64
    var location: String?
    var result: String?
    var error: Failure?

    init(_ status: OperationStatus) {
        id = status.id
        kind = status.kind
        state = status.state.rawValue
        bytes_done = status.bytesDone
        bytes_total = status.bytesTotal
        location = status.location
        result = status.result
        error = status.error.map { Failure(error: $0.kind.rawValue, message: $0.message) }
    }
}

/// A file streamed as a response body in 1 MiB pieces.
enum FileBody {
    static func response(path: String, contentType: String, disposition: String) throws -> Response {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GuesthouseError.notFound("the result is gone")
        }
        let length = Int(ScratchDirectory.size(of: path))
        let body = ResponseBody(contentLength: length) { writer in
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: contentType, .contentDisposition: disposition], body: body)
    }
}
