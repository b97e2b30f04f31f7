import Foundation
import GuesthouseCore
import Hummingbird

/// creepy-meow's container API, `/api/container/...`, over a `ContainerService`, with the same
/// authentication as every other API. Its bodies keep creepy-meow's shapes: successes carry
/// `"result": true`, failures `{"result": false, "errors": {FIELD: MESSAGE}}` with the right status
/// (400 naming the field, 401, 404, 409; upstream answered 500 to everything).
struct ContainerRoutes: Sendable {
    let service: any ContainerService
    let authenticator: Authenticator

    static let prefix = "/api/container"

    static let schemas: [String: Schema] = [
        "ContainerError": .object(["result": .boolean(), "errors": .object([:])], required: ["result", "errors"]),
        "ContainerCreated": .object(["result": .boolean(), "id": .integer(), "vlan": .integer(), "ip": .string()],
                                    required: ["result", "id", "vlan", "ip"]),
        "ContainerInfo": .object([
            "result": .boolean(), "id": .integer(), "name": .string(),
            "state": .string(enumeration: ["RUNNING", "STOPPED", "FROZEN", "UNKNOWN"]),
            "vlan": .integer(), "ip": .string(description: "eth0's address with its prefix"),
            "ips": .array(.string()), "gateway": .string(), "mac": .string(), "bridge": .string(), "mtu": .integer(),
            "memory_use": .integer(description: "bytes in use (running only)"),
            "memory_limit": .integer(description: "bytes"),
            "cpu_use": .number(description: "CPU seconds used since start (running only)"),
        ], required: ["result", "id", "name", "state", "memory_limit"]),
        "ContainerAction": .object(["result": .boolean(), "id": .integer(), "action": .string()],
                                   required: ["result", "id", "action"]),
    ]

    func register(_ api: APIRoutes<GuesthouseContext>) {
        let p = Self.prefix
        let createBody: Schema = .object(["id": .integer(description: "1...2147483647; the container is container<id>"),
                                          "ip": .string(description: "IPv4 with prefix, e.g. 192.168.2.5/24"),
                                          "vlan": .integer(description: "a configured VNI")],
                                         required: ["id", "ip", "vlan"])
        var create = Operation(.post, p + "/create", id: "containerCreate",
                               summary: "Create and start container<id> on the VNI's bridge (form or JSON body)",
                               tag: "containers", body: createBody, success: (200, .ref("ContainerCreated")),
                               errors: [400, 409, 502])
        create.requestMediaType = "application/x-www-form-urlencoded"
        api.add(create) { request, context in
            try await answer(request, context) {
                let spec = try ContainerRequests.spec(try await ContainerRequests.fields(request), vnis: service.vnis)
                let container = try await service.create(spec)
                return JSONResponse.make(ContainerCreated(id: container.id, vlan: spec.vlan, ip: spec.ip),
                                         location: "\(p)/info/\(container.id)")
            }
        }
        api.add(Operation(.get, p + "/list", id: "containerList", summary: "The ids of the running containers",
                          tag: "containers", success: (200, .object(["containers_id": .array(.integer())])),
                          errors: [502])) { request, context in
            try await answer(request, context) {
                JSONResponse.make(ContainerList(containers_id: try await service.runningIDs()))
            }
        }
        api.add(Operation(.get, p + "/info/{id}", id: "containerInfo",
                          summary: "Name, state, addresses, memory and CPU use of a container", tag: "containers",
                          success: (200, .ref("ContainerInfo")), errors: [400, 404, 502])) { request, context in
            try await answer(request, context) {
                JSONResponse.make(ContainerInfo(try await service.container(id: try ContainerRequests.id(context))))
            }
        }
        for (action, summary) in [("start", "Start a stopped container"),
                                  ("stop", "Stop a container (SIGTERM to its init, then by force)"),
                                  ("delete", "Stop and remove a container with its layer")] {
            api.add(Operation(.post, p + "/\(action)/{id}", id: "container\(action.capitalized)", summary: summary,
                              tag: "containers", success: (200, .ref("ContainerAction")),
                              errors: [400, 404, 409, 502])) { request, context in
                try await answer(request, context) {
                    let id = try ContainerRequests.id(context)
                    switch action {
                    case "start": try await service.start(id: id)
                    case "stop": try await service.stop(id: id)
                    default: try await service.delete(id: id)
                    }
                    return JSONResponse.make(ContainerAction(id: id, action: action))
                }
            }
        }
        api.add(Operation(.get, p + "/console/{id}", id: "containerConsole",
                          summary: "What the container wrote on its console (the last 64 KiB)", tag: "containers",
                          success: (200, .object(["result": .boolean(), "id": .integer(), "console": .string()])),
                          errors: [400, 404, 502])) { request, context in
            try await answer(request, context) {
                let id = try ContainerRequests.id(context)
                return JSONResponse.make(ContainerConsole(id: id, console: try await service.consoleLog(id: id)))
            }
        }
    }

    /// Authenticates, runs `body`, and turns every error into the container API's error shape.
    func answer(_ request: Request, _ context: GuesthouseContext,
                _ body: () async throws -> Response) async throws -> Response {
        do {
            try await authenticator.authenticate(request)
            return try await body()
        } catch let error as ContainerFieldErrors {
            return JSONResponse.make(ContainerErrorBody(errors: error.fields), status: .badRequest)
        } catch let error as GuesthouseError {
            RequestOrigin.current?.note(error: error)
            return Self.errorResponse(error)
        } catch {
            context.logger.error("container API error", metadata: ["error": "\(String(reflecting: error))"])
            return JSONResponse.make(ContainerErrorBody(errors: ["server": "internal error"]), status: .internalServerError)
        }
    }

    /// The container API's body for an error: `{"result": false, "errors": {FIELD: message}}`, the
    /// field being what the class of error is about. ErrorMiddleware uses it for `/api/container/`
    /// paths too (unknown routes, wrong methods).
    static func errorResponse(_ error: GuesthouseError) -> Response {
        let field = switch error.kind {
        case .unauthorized, .tooManyRequests: "auth"
        case .entityNotFound, .operationNotAllowed: "id"
        case .invalidArguments: "request"
        default: "server"
        }
        var response = JSONResponse.make(ContainerErrorBody(errors: [field: error.message]),
                                         status: .init(code: error.httpStatus))
        error.decorate(&response)
        return response
    }
}
