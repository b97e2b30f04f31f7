import Foundation
import GuesthouseCore
import Hummingbird
import OpenAPIKit30

/// One documented operation: the route table entry that both registers the handler and writes
/// the OpenAPI document, so the document cannot drift from the server.
public struct Operation: Sendable {
    public var method: HTTPRequest.Method
    /// The path in OpenAPI form, e.g. `/{hypervisor}/{host}/guests/{id}`.
    public var path: String
    public var id: String
    public var summary: String
    public var tag: String
    public var requestBody: Schema?
    /// Whether the request body must be sent (false: the route also takes none, e.g. reboot).
    public var requestBodyRequired = true
    /// The media type of the request body.
    public var requestMediaType = "application/json"
    /// Success status and schema (nil: no body).
    public var success: (Int, Schema?)
    /// Error statuses this operation may answer besides 401 and 500.
    public var errors: [Int]
    /// Whether credentials are required.
    public var authenticated = true
    public var successMediaType = "application/json"
    /// Optional query parameters: name and description.
    public var queryParameters: [(name: String, description: String)] = []
    /// Whether `Prefer: respond-async` turns the call into a 202 and an operation.
    public var acceptsAsync = false
    /// Whether the success answer carries an `ETag` (see `EntityTag`).
    public var etag: Bool
    /// Whether the operation honours `If-Match` (and may answer 412).
    public var ifMatch: Bool
    /// Schemas of path and query parameters by name, as the handler checks them (default: the
    /// document's for that path parameter, else any string).
    public var parameterSchemas: [String: Schema] = [:]
    /// Query parameters the handler requires (400 without them).
    public var requiredQueryParameters: Set<String> = []

    public init(_ method: HTTPRequest.Method, _ path: String, id: String, summary: String, tag: String,
                body: Schema? = nil, bodyRequired: Bool = true, success: (Int, Schema?), errors: [Int] = [],
                etag: Bool = false, ifMatch: Bool = false, parameters: [String: Schema] = [:]) {
        self.method = method
        self.path = path
        self.id = id
        self.summary = summary
        self.tag = tag
        self.requestBody = body
        self.requestBodyRequired = bodyRequired
        self.success = success
        self.errors = errors
        self.etag = etag
        self.ifMatch = ifMatch
        self.parameterSchemas = parameters
    }

    /// The path in Hummingbird's form (`:name` instead of `{name}`).
    var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? ":" + part.dropFirst().dropLast() : String(part)
        }.joined(separator: "/")
    }

    var parameterNames: [String] {
        path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
    }
}

/// The OpenAPI 3 document of every JSON route, built as OpenAPIKit's `OpenAPI.Document` from the
/// same `Operation`s the router serves.
public final class OpenAPIDocument: @unchecked Sendable {
    private(set) var operations: [Operation] = []
    private let schemas: [String: Schema]
    /// Schemas of path parameters by name, for every operation that does not give its own.
    private let pathParameters: [String: Schema]

    init(schemas: [String: Schema], pathParameters: [String: Schema] = [:]) {
        self.schemas = schemas
        self.pathParameters = pathParameters
    }

    func add(_ operation: Operation) {
        operations.append(operation)
    }

    /// Every documented (method, path) pair, in OpenAPI path form.
    public var routes: [(method: String, path: String)] {
        operations.map { ($0.method.rawValue, $0.path) }
    }

    /// The document as OpenAPIKit builds it.
    public var document: OpenAPI.Document {
        var paths = OpenAPI.PathItem.Map()
        for op in operations {
            let path = OpenAPI.Path(rawValue: op.path)
            var item = paths[path]?.pathItemValue ?? OpenAPI.PathItem()
            if let method = OpenAPI.BuiltinHttpMethod(rawValue: op.method.rawValue) {
                item.set(operation: openAPIOperation(op), for: method)
            }
            paths[path] = .init(item)
        }
        var components = OpenAPI.Components(
            securitySchemes: [
                "simplestackToken": .apiKey(name: "x-simplestack-hypervisor-token", location: .header,
                                            description: "base64 of user:password"),
                "basic": .http(scheme: "basic"),
                "vmangoUser": .apiKey(name: "X-Vmango-User", location: .header),
                "vmangoPass": .apiKey(name: "X-Vmango-Pass", location: .header),
                "bearer": .http(scheme: "bearer", bearerFormat: "JWT",
                                description: "an API token from `guesthouse token create`"),
            ])
        for name in schemas.keys.sorted() {
            components.schemas[.init(stringLiteral: name)] = schemas[name]!.openAPI
        }
        return OpenAPI.Document(
            openAPIVersion: .v3_0_3,
            info: .init(title: "Guesthouse", description: "Guests (VMs and containers) on many hypervisor hosts through libvirt.",
                        version: "0.1.0"),
            servers: [], paths: paths, components: components)
    }

    /// The document as JSON.
    public func json() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(document)) ?? Data()
    }

    private static let json = OpenAPI.ContentType(rawValue: "application/json")!

    private func content(_ schema: Schema, _ mediaType: String) -> OpenAPI.Content.Map {
        let type = OpenAPI.ContentType(rawValue: mediaType) ?? Self.json
        if case .ref(let name) = schema { return [type: .init(schemaReference: .component(named: name))] }
        return [type: .init(schema: schema.openAPI)]
    }

    private func openAPIOperation(_ op: Operation) -> OpenAPI.Operation {
        var parameters: OpenAPI.Parameter.Array = op.parameterNames.map { name in
            let schema = op.parameterSchemas[name] ?? pathParameters[name] ?? .string()
            return .init(OpenAPI.Parameter(name: name, context: .path, schema: schema.openAPI))
        }
        parameters += op.queryParameters.map { query in
            let schema = op.parameterSchemas[query.name] ?? .string()
            return .init(OpenAPI.Parameter(name: query.name,
                                           context: .query(required: op.requiredQueryParameters.contains(query.name)),
                                           schema: schema.openAPI, description: query.description))
        }
        if op.acceptsAsync {
            parameters.append(.init(OpenAPI.Parameter(
                name: "Prefer", context: .header, schema: .string(),
                description: "respond-async: answer 202 with Location /operations/{id} (RFC 7240); "
                    + "other preferences are ignored")))
        }
        if op.ifMatch {
            parameters.append(.init(OpenAPI.Parameter(
                name: "If-Match", context: .header, schema: .string(),
                description: "ETags of the resource's GET; the change is made only while one still matches "
                    + "(else 412 PreconditionFailed). `*` or no header: no precondition.")))
        }
        let requestBody = op.requestBody.map {
            OpenAPI.Request(content: content($0, op.requestMediaType), required: op.requestBodyRequired)
        }
        var responses = OpenAPI.Response.Map()
        let (status, schema) = op.success
        responses[.status(code: status)] = .init(OpenAPI.Response(
            description: "success",
            headers: op.etag ? ["ETag": .init(OpenAPI.Header(
                schema: .string(), description: "a strong tag of this representation, for If-Match"))] : nil,
            content: schema.map { content($0, op.successMediaType) } ?? [:]))
        if op.acceptsAsync {
            responses[.status(code: 202)] = .init(OpenAPI.Response(
                description: "Accepted (Prefer: respond-async): the operation's status; Location names it",
                content: content(.ref("Operation"), "application/json")))
        }
        let errorSchema = op.path.hasPrefix("/api/container") ? "ContainerError"
            : op.path.hasPrefix("/api/") ? "VmangoError" : "Error"
        for code in Set(errorStatuses(op)).sorted() {
            responses[.status(code: code)] = .init(OpenAPI.Response(
                description: Self.describe(code), content: content(.ref(errorSchema), "application/json")))
        }
        let security: [OpenAPI.SecurityRequirement] = op.authenticated
            ? [[.component(named: "simplestackToken"): []], [.component(named: "basic"): []],
               [.component(named: "vmangoUser"): [], .component(named: "vmangoPass"): []],
               [.component(named: "bearer"): []]]
            : []
        return OpenAPI.Operation(tags: [op.tag], summary: op.summary, operationId: op.id, parameters: parameters,
                                 requestBody: requestBody, responses: responses, security: security)
    }

    /// Every error status `op` may answer: its own, and those its parameters and credentials bring.
    private func errorStatuses(_ op: Operation) -> [Int] {
        var codes = op.errors + [500]
        // 403 too: a member's role, a quota, or a read-only API token.
        if op.authenticated { codes += [401, 403, 429] }
        if op.ifMatch { codes.append(412) }
        // A body over the limit (or a JSON body that does not parse) is refused before any handler reads it.
        if op.requestBody != nil { codes += [400, 413] }
        // The family and host in the path: 404 for an unknown family, 400 for a malformed host, 403
        // for one not allowed.
        if op.parameterNames.contains("hypervisor") { codes += [400, 403, 404] }
        if !op.requiredQueryParameters.isEmpty || !op.queryParameters.isEmpty { codes.append(400) }
        return codes
    }

    private static func describe(_ code: Int) -> String {
        switch code {
        case 400: "InvalidArguments: bad or missing input"
        case 401: "Unauthorized: missing or wrong credentials"
        case 403: "Forbidden: the host may not be reached, the user's role or quota does not allow it, or the API token is read-only"
        case 404: "EntityNotFound"
        case 409: "OperationNotAllowed: the guest's state does not allow it"
        case 412: "PreconditionFailed: If-Match no longer matches the resource"
        case 413: "InvalidArguments: the body is larger than this route takes"
        case 429: "TooManyRequests: too many failed logins lately (Retry-After says when to try again)"
        case 501: "FeatureNotImplemented: the hypervisor cannot do it"
        case 502: "HypervisorError: the hypervisor failed or cannot be reached"
        default: "InternalError"
        }
    }
}

/// Registers documented operations on a Hummingbird router.
public struct APIRoutes<Context: RequestContext> {
    let router: Router<Context>
    let document: OpenAPIDocument
    /// The responders (middlewares included) of the operations whose ids are asked for here.
    var endpoints: Endpoints<Context>? = nil

    /// Adds the handler for `operation` to the router and the operation to the document.
    func add(_ operation: Operation,
             _ handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        document.add(operation)
        let route = operation.path
        let noted: @Sendable (Request, Context) async throws -> Response = { request, context in
            RequestOrigin.current?.note(route: route, parameters: context.parameters)
            return try await handler(request, context)
        }
        router.on(RouterPath(operation.routerPath), method: operation.method, use: noted)
        if let endpoints, endpoints.wanted.contains(operation.id) {
            endpoints.record(operation.id, router.middlewares.constructResponder(finalResponder: CallbackResponder(callback: noted)))
        }
    }
}

/// Operations' responders as the router holds them (the router's middlewares around the handler), by
/// operation id, for the ids asked for.
final class Endpoints<Context: RequestContext>: Sendable {
    let wanted: Set<String>
    private let table = Locked<[String: any HTTPResponder<Context>]>([:])

    init(_ wanted: Set<String>) { self.wanted = wanted }

    func record(_ id: String, _ responder: any HTTPResponder<Context>) { table.withLock { $0[id] = responder } }

    subscript(_ id: String) -> (any HTTPResponder<Context>)? { table.withLock { $0[id] } }
}

extension Operation {
    /// The same operation, documented as answering 202 with an operation for `Prefer: respond-async`.
    func acceptingAsync() -> Operation {
        var copy = self
        copy.acceptsAsync = true
        return copy
    }
}
