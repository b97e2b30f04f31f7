import GuesthouseCore
import Hummingbird
import HummingbirdCore

/// The guest info route, `GET /{hypervisor}/{host}/guests/{guest_id}`, reached without the router's
/// trie once the router was seen to send that hypervisor and host there. The trie compares a path's
/// first part with every fixed first part of every route before it tries `{hypervisor}`, and sets
/// three parameters on the way: a fifth of this route's server time in profiles, for the route that
/// provisioning tools call most.
///
/// Exactly what the router would do: the same endpoint (the same middlewares: metrics, audit,
/// errors), the same parameters and route template. A path takes the shortcut only when its guest
/// id is a UUID (no fixed route part looks like one) and its `hypervisor/host` pair was routed to
/// this route by the router before (so a family named like another route's first part still goes
/// where the router sends it). Everything else goes to the router as before.
final class GuestInfoShortcut: Sendable {
    static let template = "/{hypervisor}/{host}/guests/{guest_id}"
    /// More remembered `hypervisor/host` pairs or paths than this, and that table starts over.
    static let capacity = 1_024

    private let endpoint: any HTTPResponder<GuesthouseContext>
    private let state = Locked(State())

    private struct State {
        /// The `hypervisor/host` pairs the router sent to this route.
        var routed: Set<Substring> = []
        /// The route's parameters by path, as made for the paths asked lately (Hummingbird's
        /// parameter table costs a few generic allocations to make).
        var parameters: [String: Parameters] = [:]
    }

    /// - Parameter endpoint: the route's responder, middlewares included.
    init(endpoint: any HTTPResponder<GuesthouseContext>) {
        self.endpoint = endpoint
    }

    /// The parts of a guest info path: `/A/B/guests/UUID`, nothing more; nil for any other path.
    struct Match {
        let hypervisor: Substring
        let host: Substring
        let guestID: Substring
        /// `A/B`: what the router's decision is remembered by.
        let pair: Substring
    }

    static func match(_ path: String) -> Match? {
        let utf8 = path.utf8
        // Byte offsets of the slashes after A and after B; the id is the last 36 bytes.
        guard let found = utf8.withContiguousStorageIfAvailable({ slashes(in: $0) }), let (first, second) = found else {
            return nil
        }
        func at(_ offset: Int) -> String.Index { utf8.index(utf8.startIndex, offsetBy: offset) }
        let hypervisor = path[at(1)..<at(first)]
        let host = path[at(first + 1)..<at(second)]
        return Match(hypervisor: hypervisor, host: host, guestID: path[at(utf8.count - 36)...],
                     pair: path[at(1)..<at(second)])
    }

    /// For `/A/B/guests/UUID` (A and B not empty, without slashes): the offsets of the slash after A
    /// and of the one after B.
    static func slashes(in bytes: UnsafeBufferPointer<UInt8>) -> (Int, Int)? {
        let slash = UInt8(ascii: "/")
        let count = bytes.count
        let second = count - 36 - 7 - 1  // "/guests/" then the id
        guard second > 2, bytes[0] == slash, bytes[second] == slash, isUUID(bytes, from: count - 36) else { return nil }
        for (offset, byte) in "guests/".utf8.enumerated() where bytes[second + 1 + offset] != byte { return nil }
        var first = 1
        while first < second, bytes[first] != slash { first += 1 }
        guard first > 1, first < second - 1 else { return nil }  // A and B not empty
        for offset in (first + 1)..<second where bytes[offset] == slash { return nil }
        return (first, second)
    }

    /// 8-4-4-4-12 hex digits from `start` to the end.
    static func isUUID(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Bool {
        UUIDText.isDashed(UnsafeBufferPointer(rebasing: bytes[start...]))
    }

    /// Answers a GET: through the shortcut when the router sent this pair here before, else
    /// through `router` (remembering the pair when it went to this route).
    func respond(to request: Request, context: GuesthouseContext, path: String, _ match: Match,
                 router: RouterResponder<GuesthouseContext>) async throws -> Response {
        let known: (routed: Bool, parameters: Parameters?) = state.withLock { state in
            if let parameters = state.parameters[path] { return (true, parameters) }
            return (state.routed.contains(match.pair), nil)
        }
        guard known.routed else {
            let response = try await router.respond(to: request, context: context)
            if context.endpointPath == Self.template {
                let pair = Substring(String(match.pair))  // its own storage, not the request's path
                state.withLock { state in
                    if state.routed.count >= Self.capacity { state.routed.removeAll(keepingCapacity: true) }
                    state.routed.insert(pair)
                }
            }
            return response
        }
        var context = context
        if let parameters = known.parameters {
            context.coreContext.parameters = parameters
        } else {
            let parameters = Parameters([(key: "hypervisor", value: match.hypervisor), (key: "host", value: match.host),
                                         (key: "guest_id", value: match.guestID)])
            state.withLock { state in
                if state.parameters.count >= Self.capacity { state.parameters.removeAll(keepingCapacity: true) }
                state.parameters[path] = parameters
            }
            context.coreContext.parameters = parameters
        }
        context.coreContext.endpointPath.value = Self.template
        do {
            return try await endpoint.respond(to: request, context: context)
        } catch let error as any HTTPResponseError {  // as the router does
            return try error.response(from: request, context: context)
        }
    }
}

/// The router, with guest info's shortcut in front (see `GuestInfoShortcut`).
public struct GuesthouseRouter: HTTPResponderBuilder {
    /// The router with every route.
    public let router: Router<GuesthouseContext>
    let guestInfo: GuestInfoShortcut?

    public func buildResponder() -> GuesthouseResponder {
        GuesthouseResponder(router: router.buildResponder(), guestInfo: guestInfo)
    }
}

/// Responds as the router does; guest info paths may take the shortcut.
public struct GuesthouseResponder: HTTPResponder {
    let router: RouterResponder<GuesthouseContext>
    let guestInfo: GuestInfoShortcut?

    public func respond(to request: Request, context: GuesthouseContext) async throws -> Response {
        if let guestInfo, request.method == .get {
            let path = request.uri.path
            if let match = GuestInfoShortcut.match(path) {
                return try await guestInfo.respond(to: request, context: context, path: path, match, router: router)
            }
        }
        return try await router.respond(to: request, context: context)
    }
}
