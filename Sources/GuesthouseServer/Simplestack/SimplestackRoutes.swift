import Foundation
import GuesthouseCore
import Hummingbird

/// The stateless Simplestack API, `/{hypervisor}/{host}/...`, over a `HypervisorDirectory`.
/// Routes are thin: read the request, call the hypervisor, encode its answer.
struct SimplestackRoutes: Sendable {
    let directory: any HypervisorDirectory
    let authenticator: Authenticator
    /// Where `Prefer: respond-async` requests run.
    let operations: OperationRegistry
    /// How often the event stream sends a comment to keep proxies from closing it.
    var eventHeartbeat: Duration = .seconds(15)
    /// Checks the acting user's quota on creates and changes that grow a guest.
    var quotas: QuotaGate?
    /// The guests' JSON as last rendered (the guest info and list routes).
    let rendered = RenderedGuests()

    static let prefix = "/{hypervisor}/{host}"

    /// The hypervisor a request names, after authenticating it: the server checks its own users
    /// (or API token) unless the hypervisor checks the credentials itself. No request reaches a
    /// hypervisor otherwise. The API is for provisioning applications: members get 403.
    func hypervisor(_ request: Request, _ context: GuesthouseContext) async throws -> any Hypervisor {
        let family = try context.parameters.require("hypervisor")
        let host = try context.parameters.require("host")
        let target = try directory.target(family: family, host: host)
        guard target.hypervisorChecksCredentials else {
            // The server's users: credentials are read once, by the authenticator.
            try await authenticator.authenticate(request).requireAdmin("the Simplestack API")
            return try await directory.hypervisor(for: target, credentials: nil)
        }
        guard let credentials = try CredentialParsing.credentials(from: request) else {
            throw GuesthouseError(.unauthorized, "credentials for \(target.family) host '\(host)' are required")
        }
        // The hypervisor's own users; a configured member is still refused.
        if authenticator.role(of: credentials.username) == .member {
            try authenticator.principal(credentials.username).requireAdmin("the Simplestack API")
        }
        return try await directory.hypervisor(for: target, credentials: credentials)
    }

    /// The `/{hypervisor}/{host}` part of the request's path, for `Location` headers.
    func base(_ context: GuesthouseContext) -> String {
        "/\(context.parameters.get("hypervisor") ?? "")/\(context.parameters.get("host") ?? "")"
    }

    func host(_ context: GuesthouseContext) -> String { context.parameters.get("host") ?? "" }

    /// A path parameter, percent-decoded (clients send ids such as MACs and tags unescaped or escaped).
    func parameter(_ name: String, _ context: GuesthouseContext) throws -> String {
        let raw = try context.parameters.require(name)
        guard raw.utf8.contains(UInt8(ascii: "%")) else { return raw }
        return raw.removingPercentEncoding ?? raw
    }

    /// The hypervisor a request names, as the capability `P`; one that lacks it answers 501 naming
    /// the operation and the family.
    func hypervisor<P>(_ request: Request, _ context: GuesthouseContext, as: P.Type, operation: String) async throws -> P {
        let hv = try await hypervisor(request, context)
        guard let capable = hv as? P else {
            let family = context.parameters.get("hypervisor") ?? ""
            throw GuesthouseError.notImplemented("\(operation) is not supported on the \(family) family")
        }
        return capable
    }

    /// The `{guest_id}` path parameter.
    func guestID(_ context: GuesthouseContext) throws -> String { try parameter("guest_id", context) }

    func register(_ api: APIRoutes<GuesthouseContext>) {
        registerPool(api)
        registerGuests(api)
        registerTags(api)
        registerSnapshots(api)
        registerDisks(api)
        registerInterfaces(api)
        registerNetworks(api)
        registerMedia(api)
        registerClone(api)
        registerExport(api)
        registerImages(api)
        registerEvents(api, heartbeat: eventHeartbeat)
    }
}
