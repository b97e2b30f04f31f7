import Foundation
import GuesthouseConfig
import GuesthouseCore
import Hummingbird

/// vmango's JSON API: `/api/machines/` and `/api/images/` over every configured provider. Paths
/// answer with and without their trailing slash.
struct VmangoRoutes: Sendable {
    let providers: any MachineProviders
    let config: Config
    let authenticator: Authenticator

    /// Checks web UI sessions; nil without `[server] session_secret`.
    let sessions: SessionCodec?
    /// Where `Prefer: respond-async` image uploads run.
    var operations = OperationRegistry()


    /// The authenticated user's name; vmango's own text on failure. Besides credentials, a web UI
    /// session cookie is taken (as vmango did): for GETs as it is, for changes only with the
    /// session's CSRF token in `X-CSRF-Token`, so another site cannot act with a user's cookie.
    func user(_ request: Request) async throws -> String {
        do {
            let credentials = try CredentialParsing.credentials(from: request)
            if credentials == nil, CredentialParsing.bearer(from: request) == nil,
               let cookie = request.cookies[WebSession.cookieName], let session = sessions?.decode(cookie.value) {
                RequestOrigin.current?.note(principal: authenticator.principal(session.user))
                if request.method == .get || request.method == .head { return session.user }
                guard let token = request.headers[.csrfToken], constantTimeEqual(token, session.csrf) else {
                    throw GuesthouseError(.forbidden, "a change made with a session cookie needs its X-CSRF-Token")
                }
                return session.user
            }
            return try await authenticator.authenticate(request).user
        } catch let error as GuesthouseError where error.kind == .unauthorized {
            throw GuesthouseError(.unauthorized, "Authentication failed")
        }
    }

    /// `GET /api/machines/{provider}/{id}/`'s answer.
    static func detail(_ provider: String, _ machine: Machine) -> MachineDetailResponse {
        MachineDetailResponse(Provider: provider, Title: "Machine \(machine.name)", Machine: machine)
    }

    /// Checks `If-Match` against the machine the path names, as its GET renders it.
    func checkIfMatch(_ request: Request, _ context: GuesthouseContext) async throws {
        let provider = try context.parameters.require("provider")
        let id = try context.parameters.require("id")
        try await IfMatch.check(request, "machine \(id) of provider \(provider)") {
            JSONResponse.body(Self.detail(provider, try await providers.machine(provider: provider, id: id)))
        }
    }

    func register(_ api: APIRoutes<GuesthouseContext>) {
        registerImageUpload(api)
        api.add(Operation(.get, "/api/machines/", id: "machineList", summary: "Every provider's machines", tag: "vmango",
                          success: (200, VmangoSchemas.machineList))) { request, _ in
            _ = try await user(request)
            let (machines, errors) = await providers.listsByProvider { try await providers.machines(provider: $0) }
            return JSONResponse.make(MachineListResponse(Machines: machines, Errors: errors.isEmpty ? nil : errors))
        }
        api.add(Operation(.post, "/api/machines/", id: "machineCreate",
                          summary: "Create and start a machine (form or JSON)", tag: "vmango",
                          body: VmangoSchemas.create(plans: Array(config.plans.keys), sshKeys: Array(config.sshKeys.keys),
                                                     providers: providers.providerNames),
                          success: (201, VmangoSchemas.message),
                          errors: [400, 404, 409, 502])) { request, _ in
            let creator = try await user(request)
            // Keys it does not read may hold anything, as the document's body schema allows.
            let fields = try await FormFields.read(request, rejectingShapes: false)
            let (provider, machineRequest) = try MachineForm.request(fields, config: config, creator: creator,
                                                                    providers: providers.providerNames)
            let machine = try await providers.create(provider: provider, machineRequest)
            return JSONResponse.make(MessageResponse(Message: "Machine \(machine.name) created"), status: .created,
                                     location: "/api/machines/\(provider)/\(machine.id)/")
        }
        let one = "/api/machines/{provider}/{id}/"
        api.add(Operation(.get, one, id: "machineDetail", summary: "One machine", tag: "vmango",
                          success: (200, VmangoSchemas.machineDetail), errors: [400, 404, 502], etag: true)) { request, context in
            _ = try await user(request)
            let provider = try context.parameters.require("provider")
            let machine = try await providers.machine(provider: provider, id: try context.parameters.require("id"))
            return JSONResponse.make(Self.detail(provider, machine), etag: true)
        }
        api.add(Operation(.delete, one, id: "machineDelete",
                          summary: "Delete a machine, its volumes and its DHCP entry", tag: "vmango",
                          success: (204, nil), errors: [400, 404, 409, 502], ifMatch: true)) { request, context in
            _ = try await user(request)
            try await checkIfMatch(request, context)
            try await providers.delete(provider: try context.parameters.require("provider"),
                                       id: try context.parameters.require("id"))
            return Response(status: .noContent)
        }
        for action in MachineAction.allCases {
            api.add(Operation(.post, one + action.rawValue + "/", id: "machine" + action.rawValue.capitalized,
                              summary: action == .stop ? "Stop (power off) a machine" : "\(action.rawValue.capitalized) a machine",
                              tag: "vmango", success: (200, VmangoSchemas.message),
                              errors: [400, 404, 409, 502], ifMatch: true)) { request, context in
                _ = try await user(request)
                let provider = try context.parameters.require("provider")
                let id = try context.parameters.require("id")
                try await checkIfMatch(request, context)
                try await providers.perform(action, provider: provider, id: id)
                return JSONResponse.make(MessageResponse(
                    Message: "Action \(action.rawValue) done for machine \(id) of provider \(provider)"))
            }
        }
        api.add(Operation(.get, "/api/images/", id: "imageList", summary: "Every provider's images", tag: "vmango",
                          success: (200, VmangoSchemas.imageList))) { request, _ in
            _ = try await user(request)
            let (images, errors) = await providers.listsByProvider { try await providers.images(provider: $0) }
            return JSONResponse.make(ImageListResponse(Images: images, Errors: errors.isEmpty ? nil : errors))
        }
    }
}

extension MachineProviders {
    /// Asks every provider at once; each answer or error comes back, sorted by provider name, so
    /// one provider that fails never hides the others.
    func eachProvider<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async
        -> [(name: String, result: Result<T, any Error>)] {
        await withTaskGroup(of: (String, Result<T, any Error>).self) { group in
            for name in providerNames {
                group.addTask {
                    do { return (name, .success(try await body(name))) } catch { return (name, .failure(error)) }
                }
            }
            var results: [(name: String, result: Result<T, any Error>)] = []
            for await (name, result) in group { results.append((name, result)) }
            return results.sorted { $0.name < $1.name }
        }
    }

    /// `eachProvider` as vmango's JSON shape: lists by provider (empty for a failed one) and errors.
    func listsByProvider<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> [T]) async
        -> (lists: [String: [T]], errors: [String: String]) {
        var lists: [String: [T]] = [:]
        var errors: [String: String] = [:]
        for (name, result) in await eachProvider(body) {
            switch result {
            case .success(let list): lists[name] = list
            case .failure(let error):
                lists[name] = []
                errors[name] = (error as? GuesthouseError)?.message ?? "provider unavailable"
            }
        }
        return (lists, errors)
    }
}

/// The create form's fields, checked in vmango's order and with vmango's texts.
enum MachineForm {
    static func request(_ fields: FormFields, config: Config, creator: String,
                        providers: [String]) throws -> (String, MachineRequest) {
        func required(_ key: String) throws -> String {
            if fields.nonStrings.contains(key) { throw GuesthouseError.invalid("\(key) must be a string") }
            let value = fields.first(key)?.trimmingCharacters(in: .whitespaces) ?? ""
            if value.isEmpty { throw GuesthouseError.invalid("\(key.lowercased()) required") }
            return value
        }
        let name = try required("Name")
        let planName = try required("Plan")
        let image = try required("Image")
        let provider = try required("Provider")
        try Validation.name(name, field: "Name")
        guard providers.contains(provider) else { throw GuesthouseError.unknownProvider(provider) }
        guard let plan = config.plans[planName] else { throw GuesthouseError.invalid("plan \"\(planName)\" not found") }
        for key in ["SSHKey", "Userdata"] where fields.nonStrings.contains(key) {
            throw GuesthouseError.invalid("\(key) must be a string")
        }
        let keys = try fields.all("SSHKey").filter { !$0.isEmpty }.map { keyName in
            guard let key = config.sshKeys[keyName] else { throw GuesthouseError.invalid("ssh key '\(keyName)' doesn't exist") }
            return MachineSSHKey(name: keyName, publicKey: key.publicKey)
        }
        // vmango trims user data and ends it with a newline.
        let userdata = (fields.first("Userdata") ?? "").trimmingCharacters(in: .whitespacesAndNewlines) + "\n"
        return (provider, MachineRequest(
            name: name, plan: plan, image: image, sshKeys: keys, userdata: userdata, creator: creator))
    }
}
