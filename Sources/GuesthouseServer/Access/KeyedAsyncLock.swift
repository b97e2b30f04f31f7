import GuesthouseCore

/// Runs bodies one at a time per key (other keys run freely), in the order they asked; waiting
/// holds no thread. Used so that a user's quota check and the create it allows are one step
/// within a replica: two creates cannot both pass the last free slot.
final class KeyedAsyncLock: Sendable {
    private struct State {
        /// For each held key, the waiters in order.
        var queues: [String: [CheckedContinuation<Void, Never>]] = [:]
    }
    private let state = Locked(State())

    func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        await acquire(key)
        defer { release(key) }
        return try await body()
    }

    private func acquire(_ key: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free: Bool = state.withLock { state in
                if state.queues[key] == nil {
                    state.queues[key] = []
                    return true
                }
                state.queues[key]!.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    private func release(_ key: String) {
        let next: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard var waiting = state.queues[key], !waiting.isEmpty else {
                state.queues[key] = nil
                return nil
            }
            let next = waiting.removeFirst()
            state.queues[key] = waiting
            return next
        }
        next?.resume()
    }

    /// How many keys are held now (for tests: 0 once everything finished).
    var heldKeys: Int { state.withLock { $0.queues.count } }
}
