import GuesthouseConfig
import GuesthouseCore

/// Who an authenticated request acts as: the user, their role and quota, and the API token used
/// (if any). Every interface's authentication ends by noting one in the request's `RequestOrigin`,
/// where the ownership and quota checks (`OwnedMachineProviders`, `OwnedContainerService`) read it.
public struct Principal: Sendable, Equatable {
    public var user: String
    public var role: UserRole
    public var quota: UserQuota?
    /// The API token's id when the request came with one.
    public var tokenID: String?
    /// Whether the token may only read.
    public var readOnly = false

    public init(user: String, role: UserRole, quota: UserQuota? = nil, tokenID: String? = nil, readOnly: Bool = false) {
        self.user = user
        self.role = role
        self.quota = quota
        self.tokenID = tokenID
        self.readOnly = readOnly
    }

    public var isAdmin: Bool { role == .admin }

    /// - Throws: `forbidden` unless the principal is an admin.
    public func requireAdmin(_ what: String) throws {
        guard isAdmin else { throw GuesthouseError(.forbidden, "\(what) is for administrators; \(user) is a member") }
    }
}

/// What a lookup may show to the principal of the request being handled.
public enum Ownership {
    /// The principal the current request acts as. Outside any request (the CLI, the benchmark, a
    /// service) there is no restriction: nil. Inside a request that has not authenticated, nothing
    /// is visible (a principal owning nothing), so a route that forgot to authenticate fails closed.
    static var scope: Principal? {
        guard let origin = RequestOrigin.current else { return nil }
        guard let principal = origin.principal else { return Principal(user: "", role: .member) }
        return principal.isAdmin ? nil : principal
    }

    /// Runs `body` as `principal` (in a request origin of its own that keeps the current one's
    /// address), for work decided outside the router's middleware, e.g. a websocket upgrade.
    /// Without a principal, `body` runs as it is.
    static func acting<T: Sendable>(as principal: Principal?, _ body: () async throws -> T) async throws -> T {
        guard let principal else { return try await body() }
        let current = RequestOrigin.current
        let origin = RequestOrigin(address: current?.address, isChange: current?.isChange ?? false)
        origin.note(principal: principal)
        return try await RequestOrigin.$current.withValue(origin) { try await body() }
    }

    /// Whether `scope` may see something created by `creator`.
    static func visible(_ creator: String?, to scope: Principal?) -> Bool {
        guard let scope else { return true }
        return !scope.user.isEmpty && creator == scope.user
    }
}
