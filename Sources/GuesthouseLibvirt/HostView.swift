import CoreMetrics
import Foundation
import GuesthouseCore
import Libvirt
import Logging

/// One host's domains as this replica last read them, for one pooled connection (one URI and one
/// credential, so a request only ever reads a view its credentials opened). libvirt stays the only
/// state: the view is rebuilt from a full read whenever its connection opens or reopens, each event
/// re-reads the one domain it names, every write of this server re-reads what it touched before it
/// answers, and what has no events (volume sizes, DHCP leases) is reconciled in the background.
/// It also fans the host's events out to subscribers, each with a bounded buffer.
public final class HostView: Sendable {
    public let uri: String
    private let executor: LibvirtExecutor
    private let logger: Logger
    private let reconcileInterval: Duration
    private let metrics: any MetricsFactory
    private let state = Locked(State())
    /// Serialises read-and-apply of domains, so an older read never overwrites a newer one.
    private let reads = NSLock()
    /// Called when the connection went away while someone listens: reopens it (true when it did).
    let reopen: Locked<(@Sendable () async -> Bool)?> = Locked(nil)

    /// How many events a subscriber may have unread before it is cut off.
    public static let subscriberBuffer = 1024

    private struct State {
        var guests: [String: ViewedDomain] = [:]
        var uuidByName: [String: String] = [:]
        var connection: Connection?
        var generation: UInt64 = 0
        var ready = false
        var building = false
        var eventDriven = true
        var waiting: [CheckedContinuation<Void, any Error>] = []
        var builtAt: ContinuousClock.Instant?
        var reconciledAt: ContinuousClock.Instant?
        var reconciling = false
        var pending: [Pending] = []
        var refreshing = false
        var subscribers: [UInt64: AsyncStream<HostEvent>.Continuation] = [:]
        var nextSubscriber: UInt64 = 0
        var reconnecting = false
        var eventsReceived: UInt64 = 0
    }

    /// An event waiting for its domain to be re-read.
    private struct Pending {
        var uuid: String
        var name: String
        var action: String?
        var impliedState: GuestState?
    }

    init(uri: String, executor: LibvirtExecutor, logger: Logger, metrics: any MetricsFactory,
         reconcileInterval: Duration = .seconds(5)) {
        self.metrics = metrics
        self.uri = uri
        self.executor = executor
        self.logger = logger
        self.reconcileInterval = reconcileInterval
    }

    // MARK: Reads

    /// Every guest, by name. Call after `waitUntilReady`.
    public func guests() -> [Guest] {
        domains().map(\.guest)
    }

    /// The guest `id` (UUID, 32 hex digits or name) names, nil when the view has none.
    public func guest(id: String) -> Guest? {
        domain(id: id)?.guest
    }

    /// Every domain with its definition and state, by name. Call after `waitUntilReady`.
    public func domains() -> [ViewedDomain] {
        reconcileIfDue()
        return state.withLock { Array($0.guests.values) }.sorted { $0.definition.name < $1.definition.name }
    }

    /// The domain `id` (UUID, 32 hex digits or name) names, nil when the view has none.
    public func domain(id: String) -> ViewedDomain? {
        let key = Self.uuidKey(id)
        let now = ContinuousClock.now
        let (domain, due) = state.withLock { state -> (ViewedDomain?, (Connection, UInt64)?) in
            let due = claimReconcile(&state, now: now)  // the same lock: one per guest info
            if let key, let domain = state.guests[key] { return (domain, due) }
            return (state.uuidByName[id].flatMap { state.guests[$0] }, due)
        }
        reconcile(due)
        return domain
    }

    /// Whether the view holds a full read of its current connection.
    public var isReady: Bool { state.withLock { $0.ready } }

    /// Whether the view holds a full read and events keep it (one lock).
    var isReadyAndEventDriven: Bool { state.withLock { $0.ready && $0.eventDriven } }

    /// Whether events keep this view (false for drivers without domain events: read libvirt instead).
    public var isEventDriven: Bool { state.withLock { $0.eventDriven } }

    /// How many guests the view holds, and how long ago it was last rebuilt from a full read.
    public var statistics: (guests: Int, age: Duration?, events: UInt64) {
        let now = ContinuousClock.now
        return state.withLock { ($0.guests.count, $0.builtAt.map { now - $0 }, $0.eventsReceived) }
    }

    /// Returns once the view holds a full read of its current connection.
    func waitUntilReady() async throws {
        enum Next { case ready, wait, build(Connection, UInt64) }
        let next: Next = state.withLock { state in
            if state.ready || !state.eventDriven { return .ready }
            if !state.building, let conn = state.connection {
                state.building = true
                return .build(conn, state.generation)
            }
            return .wait
        }
        switch next {
        case .ready: return
        case .build(let conn, let generation): scheduleRebuild(conn, generation: generation)
        case .wait: break
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let done = state.withLock { state -> Bool in
                if state.ready || !state.eventDriven { return true }
                state.waiting.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: Connection

    /// Follows `conn`, a connection the pool just opened: subscribes to its events and rebuilds the
    /// view from a full read (on the executor; readers wait for it). Blocks (libvirt calls).
    func attach(_ conn: Connection) {
        let generation = state.withLock { state -> UInt64 in
            state.generation &+= 1
            state.connection = conn
            state.ready = false
            state.building = true
            state.pending = []
            return state.generation
        }
        do {
            try conn.subscribe { [weak self] event in self?.handle(event, generation: generation) }
        } catch {
            logger.info("no domain events on this host: guests are read from libvirt on each request",
                        metadata: ["uri": "\(uri)", "reason": "\(error)"])
            let waiting = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
                state.eventDriven = false
                state.building = false
                defer { state.waiting = [] }
                return state.waiting
            }
            waiting.forEach { $0.resume() }
            return
        }
        scheduleRebuild(conn, generation: generation)
    }

    /// Stops following the current connection (it died or was dropped); readers wait for the next one.
    /// When someone listens to the events, the connection is reopened in the background.
    func detach() {
        let listening = state.withLock { state -> Bool in
            guard state.connection != nil else { return false }
            state.connection = nil
            state.ready = false
            state.building = false
            return !state.subscribers.isEmpty
        }
        if listening { reconnectInBackground() }
    }

    private func reconnectInBackground() {
        let start = state.withLock { state -> Bool in
            defer { state.reconnecting = true }
            return !state.reconnecting
        }
        guard start, let reopen = reopen.withLock({ $0 }) else { return }
        Task { [weak self] in
            while let self {
                let wanted = self.state.withLock { $0.connection == nil && !$0.subscribers.isEmpty }
                if !wanted { break }
                if await reopen() { break }
                try? await Task.sleep(for: .seconds(1))
            }
            self?.state.withLock { $0.reconnecting = false }
        }
    }

    private func scheduleRebuild(_ conn: Connection, generation: UInt64) {
        executor.submit { [weak self] active in
            guard let self else { return }
            guard active else { return self.finishBuild(generation: generation, guests: nil, error: CancellationError()) }
            do {
                let guests = try self.reads.withLock { try Self.readAll(conn) }
                self.finishBuild(generation: generation, guests: guests, error: nil)
            } catch {
                self.finishBuild(generation: generation, guests: nil, error: error)
            }
            // A full read is the largest transient allocation there is (libvirt's copy of every
            // definition and our parse of each, for a 1,000-guest host ~7 MB freed in the arenas):
            // hand the freed pages back rather than keep them resident until the next one.
            HeapTuning.releaseFreeMemory()
        }
    }

    static func readAll(_ conn: Connection) throws -> [ViewedDomain] {
        let reader = GuestReader(conn: conn)
        return try conn.allDomains().compactMap { domain in
            do {
                return try reader.viewed(domain)
            } catch let error as LibvirtError where error.kind == .notFound {
                return nil  // undefined while we listed it
            }
        }
    }

    private func finishBuild(generation: UInt64, guests: [ViewedDomain]?, error: (any Error)?) {
        let now = ContinuousClock.now
        var vanished: [Guest] = []
        var reconnected = false
        let (waiting, drain) = state.withLock { state -> ([CheckedContinuation<Void, any Error>], Bool) in
            guard state.generation == generation else { return ([], false) }
            guard let guests else {
                state.building = false
                defer { state.waiting = [] }
                return (state.waiting, false)
            }
            let fresh = Dictionary(guests.map { ($0.guest.id.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
            if state.builtAt != nil {
                reconnected = generation > 1
                vanished = state.guests.values.map(\.guest).filter { fresh[$0.id.lowercased()] == nil }
            }
            state.guests = fresh
            state.uuidByName = Dictionary(guests.map { ($0.guest.name, $0.guest.id.lowercased()) },
                                          uniquingKeysWith: { a, _ in a })
            state.builtAt = now
            state.reconciledAt = now
            if !state.pending.isEmpty {
                // Writes and events that came while the full read ran may be missing from it: they
                // are re-read before any reader sees the view (`drainPending` makes it ready).
                state.refreshing = true
                return ([], true)
            }
            state.ready = true
            state.building = false
            defer { state.waiting = [] }
            return (state.waiting, false)
        }
        for continuation in waiting {
            if let error, guests == nil { continuation.resume(throwing: error) } else { continuation.resume() }
        }
        if let error, guests == nil {
            logger.warning("reading the host's guests failed", metadata: ["uri": "\(uri)", "error": "\(error)"])
        }
        for guest in vanished {
            publish(HostEvent(type: .guest, action: "deleted", id: guest.id, name: guest.name, state: .stopped))
        }
        if reconnected { publish(HostEvent(type: .host, action: "reconnected")) }
        if drain { drainPending(generation: generation, active: true, markReady: true) }
    }

    // MARK: Events

    private func handle(_ event: LibvirtEvent, generation: UInt64) {
        let kind = switch event {
        case .domain: "domain"
        case .storagePool: "storage_pool"
        case .closed: "closed"
        }
        Counter(label: "guesthouse_libvirt_events_total", dimensions: [("host", uri), ("kind", kind)],
                factory: metrics).increment()
        switch event {
        case .domain(let uuid, let name, let kind):
            let (action, implied) = Self.action(kind)
            let refresh = state.withLock { state -> Bool in
                guard state.generation == generation else { return false }
                state.eventsReceived &+= 1
                state.pending.append(Pending(uuid: uuid.lowercased(), name: name, action: action, impliedState: implied))
                guard state.ready, !state.refreshing else { return false }
                state.refreshing = true
                return true
            }
            if refresh { scheduleRefresh(generation: generation) }
        case .storagePool(let uuid, let name, let kind):
            state.withLock { state in
                state.eventsReceived &+= 1
                // Volumes may have changed size: reconcile at the next read.
                if kind == .refreshed || kind == .started { state.reconciledAt = nil }
            }
            publish(HostEvent(type: .storage, action: "\(kind)", id: uuid, name: name))
        case .closed(let reason):
            logger.info("libvirt connection closed", metadata: ["uri": "\(uri)", "reason": "\(reason)"])
            let current = state.withLock { $0.generation == generation }
            if current { detach() }
        }
    }

    /// The stream's action for a libvirt event (nil: none, e.g. the first half of a rename), and
    /// the state the event implies.
    static func action(_ kind: DomainEventKind) -> (String?, GuestState?) {
        switch kind {
        case .lifecycle(let lifecycle, let detail):
            switch lifecycle {
            case .defined: return (detail == 0 ? "defined" : "updated", nil)
            case .undefined: return (detail == DomainLifecycle.undefinedRenamedDetail ? nil : "undefined", nil)
            case .started: return ("started", .started)
            case .suspended, .pmSuspended: return ("paused", .paused)
            case .resumed: return ("resumed", .started)
            case .stopped, .crashed: return ("stopped", .stopped)
            case .shutdown: return (nil, nil)
            }
        case .rebooted, .deviceAdded, .deviceRemoved, .trayChanged, .diskChanged, .metadataChanged, .jobCompleted:
            return ("updated", nil)
        }
    }

    private func scheduleRefresh(generation: UInt64) {
        executor.submit { [weak self] active in
            self?.drainPending(generation: generation, active: active, markReady: false)
        }
    }

    /// Re-reads the domains that pending events and writes name, a batch at a time (on the
    /// executor), and publishes the events. With `markReady` (the end of a full read) the view
    /// becomes ready in the same step that finds nothing pending, so no reader sees it without them.
    private func drainPending(generation: UInt64, active: Bool, markReady: Bool) {
        do {
            while true {
                let (batch, conn, waiting) = state.withLock { state -> ([Pending], Connection?, [CheckedContinuation<Void, any Error>]) in
                    guard active, state.generation == generation, let conn = state.connection, !state.pending.isEmpty else {
                        state.refreshing = false
                        guard markReady, state.generation == generation else { return ([], nil, []) }
                        state.ready = true
                        state.building = false
                        defer { state.waiting = [] }
                        return ([], nil, state.waiting)
                    }
                    defer { state.pending = [] }
                    return (state.pending, conn, [])
                }
                waiting.forEach { $0.resume() }
                guard let conn, !batch.isEmpty else { return }
                var seen = Set<String>()
                let uuids = batch.map(\.uuid).filter { seen.insert($0).inserted }
                let read = self.refresh(uuids, conn)
                for pending in batch {
                    guard let action = pending.action else { continue }
                    let guest = (read[pending.uuid] ?? nil)?.guest
                    self.publish(HostEvent(type: .guest, action: action, id: guest?.id ?? pending.uuid,
                                           name: guest?.name ?? pending.name,
                                           state: pending.impliedState ?? guest?.state ?? .stopped))
                }
            }
        }
    }

    /// Re-reads these domains (by UUID) and applies what it found: a domain that is gone leaves the
    /// view. Runs on the executor. Returns each domain as read (nil: gone).
    @discardableResult
    func refresh(_ uuids: some Collection<String>, _ conn: Connection) -> [String: ViewedDomain?] {
        guard !uuids.isEmpty else { return [:] }
        return reads.withLock {
            let reader = GuestReader(conn: conn)
            var read: [String: ViewedDomain?] = [:]
            for uuid in uuids {
                do {
                    read[uuid] = try reader.viewed(conn.domain(uuid: uuid))
                } catch let error as LibvirtError where error.kind == .notFound {
                    read[uuid] = .some(nil)
                } catch {
                    logger.debug("re-reading a domain failed", metadata: ["uuid": "\(uuid)", "error": "\(error)"])
                }
            }
            state.withLock { state in
                for (uuid, guest) in read { Self.apply(&state, uuid: uuid, guest: guest) }
            }
            return read
        }
    }

    /// After a write of this server: re-reads what it touched, and adds or drops domains whose
    /// presence changed (creates, clones, imports and deletes), before the write answers.
    func refreshAfterWrite(touched: Set<String>, _ conn: Connection) {
        let current = state.withLock { state -> Bool in
            guard state.connection === conn else { return false }
            if state.ready { return true }
            // A full read is under way and may have read before this write: re-read after it.
            state.pending += touched.map { Pending(uuid: $0, name: "", action: nil, impliedState: nil) }
            return false
        }
        guard current else { return }
        var uuids = touched
        if let listed = try? Set(conn.allDomains().map { $0.uuid.lowercased() }) {
            let known = state.withLock { Set($0.guests.keys) }
            uuids.formUnion(listed.subtracting(known))
            uuids.formUnion(known.subtracting(listed))
        }
        refresh(uuids, conn)
    }

    private static func apply(_ state: inout State, uuid: String, guest: ViewedDomain?) {
        if let old = state.guests[uuid], state.uuidByName[old.guest.name] == uuid { state.uuidByName[old.guest.name] = nil }
        if let guest {
            state.guests[uuid] = guest
            state.uuidByName[guest.guest.name] = uuid
        } else {
            state.guests[uuid] = nil
        }
    }

    // MARK: Reconcile

    /// Starts a background pass over what has no events (volume sizes, DHCP leases) when the last
    /// one is older than the interval. Never blocks the caller.
    private func reconcileIfDue() {
        let now = ContinuousClock.now
        reconcile(state.withLock { claimReconcile(&$0, now: now) })
    }

    /// The connection and generation to reconcile when a pass is due (then marked as running).
    private func claimReconcile(_ state: inout State, now: ContinuousClock.Instant) -> (Connection, UInt64)? {
        guard state.ready, !state.reconciling, let conn = state.connection else { return nil }
        if let at = state.reconciledAt, now - at < reconcileInterval { return nil }
        state.reconciling = true
        return (conn, state.generation)
    }

    /// Runs the pass `claimReconcile` claimed, if any, on the view's executor.
    private func reconcile(_ due: (Connection, UInt64)?) {
        guard let (conn, generation) = due else { return }
        executor.submit { [weak self] active in
            guard let self else { return }
            defer { self.state.withLock { $0.reconciling = false; $0.reconciledAt = ContinuousClock.now } }
            guard active else { return }
            let guests = self.state.withLock { $0.generation == generation ? Array($0.guests.values) : [] }
            let reader = GuestReader(conn: conn)
            var changed: [(old: ViewedDomain, new: ViewedDomain)] = []
            for domain in guests {
                var capacities: [String: UInt64] = [:]
                for disk in domain.definition.disks where disk.device == "disk" {
                    capacities[disk.target] = reader.capacity(of: disk)
                }
                let ip = domain.state == .running ? reader.address(of: domain.definition.interfaces) : nil
                if capacities != domain.diskCapacities || ip != domain.ip {
                    changed.append((domain, domain.reconciled(capacities: capacities, ip: ip)))
                }
            }
            guard !changed.isEmpty else { return }
            self.reads.withLock {
                self.state.withLock { state in
                    guard state.generation == generation else { return }
                    for (old, new) in changed {
                        let key = old.guest.id.lowercased()
                        // Only where nothing re-read the domain meanwhile.
                        guard let current = state.guests[key], current.guest == old.guest else { continue }
                        state.guests[key] = new
                    }
                }
            }
        }
    }

    // MARK: Subscribers

    /// The host's events from now on; the stream ends when its reader falls `subscriberBuffer`
    /// events behind. While someone listens, a lost connection is reopened in the background.
    public func events() -> AsyncStream<HostEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: HostEvent.self,
                                                            bufferingPolicy: .bufferingOldest(Self.subscriberBuffer))
        let (id, detached) = state.withLock { state -> (UInt64, Bool) in
            state.nextSubscriber &+= 1
            state.subscribers[state.nextSubscriber] = continuation
            return (state.nextSubscriber, state.connection == nil)
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        if detached { reconnectInBackground() }
        return stream
    }

    /// How many streams listen now.
    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }

    private func publish(_ event: HostEvent) {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers {
            if case .dropped = subscriber.yield(event) {
                subscriber.finish()  // too far behind: cut off, never held on to
            }
        }
    }

    /// "8d0c...-..." for a dashed or undashed UUID, nil for anything else (a name).
    static func uuidKey(_ id: String) -> String? { UUIDText.key(id) }
}
