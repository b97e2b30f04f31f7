import GuesthouseCore

/// Guest infos read in the last `ttl` seconds, per hypervisor URI, so that a burst of requests
/// for one guest costs one round of libvirt calls. State still lives in libvirt:
/// - every operation of this server that may change a host drops that host's entries, before and
///   after it runs, so a client always reads its own writes;
/// - a read that overlapped such an operation does not store what it read (a generation count);
/// - changes made elsewhere (other replicas, virsh) show within `ttl` (1 s by default,
///   `[server] info_cache_ms`; 0 turns the cache off).
public final class GuestInfoCache: Sendable {
    public let ttl: Duration
    private let state = Locked(State())

    private struct State {
        var entries: [Key: (guest: Guest, at: ContinuousClock.Instant)] = [:]
        var generations: [String: UInt64] = [:]
        var loading: [Key: Task<Guest, any Error>] = [:]
    }

    private struct Key: Hashable {
        var uri: String
        var id: String
    }

    public init(ttl: Duration) { self.ttl = ttl }

    var enabled: Bool { ttl > .zero }

    /// The guest `id` names on `uri`, when it was read recently enough.
    func guest(uri: String, id: String) -> Guest? {
        guard enabled else { return nil }
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let entry = state.entries[Key(uri: uri, id: id)], now - entry.at < ttl else { return nil }
            return entry.guest
        }
    }

    /// The guest from the cache, or from `read`; concurrent misses for one guest share one read
    /// (when an entry expires under load, one round of libvirt calls refreshes it, not one per request).
    func guest(uri: String, id: String, read: @escaping @Sendable () async throws -> Guest) async throws -> Guest {
        guard enabled else { return try await read() }
        if let guest = guest(uri: uri, id: id) { return guest }
        let key = Key(uri: uri, id: id)
        let task: Task<Guest, any Error> = state.withLock { current in
            if let pending = current.loading[key] { return pending }
            let generation = current.generations[uri, default: 0]
            let task = Task { [self] in
                defer { state.withLock { _ = $0.loading.removeValue(forKey: key) } }
                let guest = try await read()
                store(guest, uri: uri, id: id, generation: generation)
                return guest
            }
            current.loading[key] = task
            return task
        }
        return try await task.value
    }

    /// The generation of `uri`: a read takes it before it starts and hands it back to `store`.
    func generation(uri: String) -> UInt64 {
        state.withLock { $0.generations[uri, default: 0] }
    }

    /// Keeps what a read found, unless the host changed while it ran.
    func store(_ guest: Guest, uri: String, id: String, generation: UInt64) {
        guard enabled else { return }
        let now = ContinuousClock.now
        state.withLock { state in
            guard state.generations[uri, default: 0] == generation else { return }
            if state.entries.count > 10_000 { state.entries.removeAll(keepingCapacity: true) }
            state.entries[Key(uri: uri, id: id)] = (guest, now)
        }
    }

    /// Drops every entry of `uri`: something on that host may change or has changed.
    func invalidate(uri: String) {
        guard enabled else { return }
        state.withLock { state in
            state.generations[uri, default: 0] &+= 1
            state.entries = state.entries.filter { $0.key.uri != uri }
        }
    }
}
