import Foundation
import GuesthouseConfig
import GuesthouseCore
import HTTPTypes
import Hummingbird

/// Who is behind the request being handled: its client address, and what the handlers learn on the
/// way (the user, the route template and its target, an error's message) for the audit line.
/// The audit middleware binds one to the request's task (`RequestOrigin.current`), so the
/// authenticator and the routes reach it without every call passing it along.
public final class RequestOrigin: Sendable {
    /// The client's address (see `ClientAddress`); nil when the transport has none.
    public let address: String?
    /// Whether the request may change something (any method but GET and HEAD).
    public let isChange: Bool
    private let notes = Locked(Notes())

    struct Notes {
        var user: String?
        var principal: Principal?
        var route: String?
        /// The route's path parameters; made into a dictionary only when a line is written.
        var parameters: Parameters?
        var error: GuesthouseError?

        /// The path parameters naming the target.
        var target: [String: String] {
            var target: [String: String] = [:]
            for (key, value) in parameters ?? [:] { target[String(key)] = String(value) }
            return target
        }
    }

    @TaskLocal public static var current: RequestOrigin?

    public init(address: String?, isChange: Bool = false) {
        self.address = address
        self.isChange = isChange
    }

    /// Notes the user the request acts as (or tried to log in as).
    public func note(user: String) { notes.withLock { $0.user = user } }

    /// Notes who the request acts as, once authenticated.
    public func note(principal: Principal) {
        notes.withLock {
            $0.principal = principal
            $0.user = principal.user
        }
    }

    /// Who the request acts as; nil until it has authenticated.
    public var principal: Principal? { notes.withLock { $0.principal } }

    /// Notes the route template and the path parameters that name its target.
    func note(route: String, parameters: Parameters) {
        notes.withLock {
            $0.route = route
            $0.parameters = parameters
        }
    }

    /// Notes an error the handler answered with (when it renders it itself rather than throwing).
    public func note(error: GuesthouseError) { notes.withLock { $0.error = error } }

    var snapshot: Notes { notes.withLock { $0 } }
}

/// The client's address: the socket's peer, or, when that peer is a trusted proxy, the
/// `X-Forwarded-For` entry nearest to it that is not itself a trusted proxy.
struct ClientAddress: Sendable {
    let trusted: [AddressRange]

    init(trustedProxies: [String]) {
        trusted = trustedProxies.compactMap(AddressRange.init)
    }

    func resolve(peer: String?, forwardedFor: String?) -> String? {
        guard let peer, isTrusted(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for hop in hops.reversed() where !isTrusted(hop) {
            return AddressRange.bytes(hop) != nil ? hop : peer
        }
        return hops.first ?? peer
    }

    private func isTrusted(_ address: String) -> Bool {
        trusted.contains { $0.contains(address) }
    }
}

extension HTTPField.Name {
    static let forwardedFor = Self("X-Forwarded-For")!
    static let retryAfter = Self("Retry-After")!
}
