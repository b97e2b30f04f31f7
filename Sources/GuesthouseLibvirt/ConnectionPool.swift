import CoreMetrics
import Foundation
import GuesthouseCore
import Libvirt
import Logging

/// One open libvirt connection per (URI, credentials), shared by every request and replaced when it
/// dies. A `test:///path.xml` URI therefore keeps exactly one connection, and with it one state.
/// Opening is single-flight per key and bounded by a timeout, so a dead host costs one blocked
/// worker, never a hang, and never delays requests for other hosts.
public final class ConnectionPool: Sendable {
    private struct Key: Hashable {
        var uri: String
        var credentials: LibvirtCredentials?
    }

    /// Where blocking libvirt calls run.
    public let executor: LibvirtExecutor
    /// The deadlines of libvirt calls in flight.
    public let deadlines: DeadlineWatch
    /// The per-domain and per-network locks of this process.
    public let locks: LibvirtLocks
    private let connectTimeout: Double
    let logger: Logger
    /// Where libvirt call latencies and events are recorded.
    let metrics: any MetricsFactory
    /// Where the views' re-reads and rebuilds run: two workers of their own, so events are applied
    /// at once even while slow operations occupy every worker of `executor`.
    private let viewExecutor: LibvirtExecutor
    /// Where volume downloads run (a helper process each); nil: in this process.
    public let downloadHelper: VolumeDownloadHelper?
    private let state = Locked(State())

    private struct State {
        var open: [Key: Connection] = [:]
        var opening: [Key: Task<Connection, any Error>] = [:]
        /// One view per key: it outlives the connection, so a reopen rebuilds it in place.
        var views: [Key: HostView] = [:]
    }

    /// Made once by the build function and shared by every interface.
    /// - Parameters:
    ///   - executor: where blocking opens (and every libvirt call of the hypervisors) run.
    ///   - deadlines: keeps the deadlines of opens and calls.
    ///   - locks: the per-domain and per-network locks.
    ///   - connectTimeout: seconds an open may take before the request fails with `hypervisorError`.
    ///   - metrics: where libvirt call latencies, connections and events are recorded.
    ///   - downloadHelper: runs volume downloads in processes of their own (bounded memory).
    public init(executor: LibvirtExecutor, deadlines: DeadlineWatch, locks: LibvirtLocks,
                connectTimeout: Double = 10,
                logger: Logger = Logger(label: "guesthouse.libvirt"),
                metrics: any MetricsFactory = NOOPMetricsHandler.instance,
                downloadHelper: VolumeDownloadHelper? = nil) {
        self.metrics = metrics
        self.downloadHelper = downloadHelper
        self.executor = executor
        self.deadlines = deadlines
        self.locks = locks
        self.viewExecutor = LibvirtExecutor(threads: 2)
        self.connectTimeout = connectTimeout
        self.logger = logger
    }

    /// A live connection to `uri`, opened if needed.
    /// - Throws: `GuesthouseError` (`hypervisorError` when unreachable, `unauthorized` when refused).
    public func connection(uri: String, credentials: LibvirtCredentials? = nil) async throws -> Connection {
        let key = Key(uri: uri, credentials: credentials)
        enum Lookup { case open(Connection), opening(Task<Connection, any Error>) }
        let lookup: Lookup = state.withLock { state in
            if let conn = state.open[key] {
                // The hot path: an open connection, handed out with no task and no timer.
                if conn.isAlive { return .open(conn) }
                state.open[key] = nil
                state.views[key]?.detach()
                logger.info("libvirt connection lost, reopening", metadata: ["uri": "\(uri)"])
            }
            if let pending = state.opening[key] { return .opening(pending) }
            // The open stays registered until libvirt returns, even after callers gave up on it, so a
            // host that hangs costs one blocked worker, not one per request.
            let view = self.view(&state, key)
            let task = Task { [executor, registry = self.state] () throws -> Connection in
                do {
                    let conn = try await executor.run {
                        let conn = try Self.open(uri: uri, credentials: credentials)
                        view.attach(conn)
                        return conn
                    }
                    registry.withLock { registry in
                        registry.opening[key] = nil
                        registry.open[key] = conn
                    }
                    return conn
                } catch {
                    registry.withLock { $0.opening[key] = nil }
                    throw error
                }
            }
            state.opening[key] = task
            return .opening(task)
        }
        switch lookup {
        case .open(let conn):
            return conn
        case .opening(let opening):
            return try await withTimeout(deadlines, seconds: connectTimeout, what: "hypervisor \(uri)") {
                try await opening.value
            }
        }
    }

    /// `connection(uri:credentials:)` for callers on threads of their own (the wirt spool), which may
    /// block: an open connection at once, else one opened on the executor within the connect timeout.
    /// Not single-flight with the async opens: when two finish, the first registered is kept.
    /// - Throws: `GuesthouseError` as `connection(uri:credentials:)`.
    public func connectionWaiting(uri: String, credentials: LibvirtCredentials? = nil) throws -> Connection {
        let key = Key(uri: uri, credentials: credentials)
        let open: Connection? = state.withLock { state in
            guard let conn = state.open[key] else { return nil }
            if conn.isAlive { return conn }
            state.open[key] = nil
            return nil
        }
        if let open { return open }
        let conn = try runOnExecutorWaiting(executor, seconds: connectTimeout, what: "hypervisor \(uri)") {
            try Self.open(uri: uri, credentials: credentials)
        }
        let (kept, attaching) = state.withLock { state -> (Connection, HostView?) in
            if let other = state.open[key], other.isAlive { return (other, nil) }
            state.open[key] = conn
            return (conn, self.view(&state, key))
        }
        attaching?.attach(kept)
        return kept
    }

    /// Opens a connection (blocking; on the executor), with keepalive for remote hosts.
    private static func open(uri: String, credentials: LibvirtCredentials?) throws -> Connection {
        do {
            let conn = try Connection(uri: uri, credentials: credentials)
            if isRemote(uri) { conn.setKeepAlive(interval: 5, count: 3) }
            return conn
        } catch {
            throw LibvirtErrorMapping.mapConnect(error, uri: uri)
        }
    }

    /// Whether the URI names a remote host (keepalive applies), e.g. `qemu+ssh://host/system`.
    static func isRemote(_ uri: String) -> Bool {
        guard let range = uri.range(of: "://") else { return false }
        return uri[range.upperBound...].first.map { $0 != "/" } ?? false
    }

    /// Drops the connection to `uri` (after a failure that suggests it is dead); the next request
    /// reopens it, and its view is rebuilt from a full read.
    public func evict(uri: String, credentials: LibvirtCredentials? = nil) {
        let key = Key(uri: uri, credentials: credentials)
        let view = state.withLock { state -> HostView? in
            guard state.open.removeValue(forKey: key) != nil else { return nil }
            return state.views[key]
        }
        view?.detach()
    }

    /// The view for `uri` and these credentials when its connection is open and alive and it holds
    /// a full read kept by events: the hot path of every list and info, one lock and no task.
    func readyView(uri: String, credentials: LibvirtCredentials?) -> HostView? {
        let key = Key(uri: uri, credentials: credentials)
        let view = state.withLock { state -> HostView? in
            guard let conn = state.open[key], conn.isAlive else { return nil }
            return state.views[key]
        }
        guard let view, view.isReadyAndEventDriven else { return nil }
        return view
    }

    /// The view of the host behind `uri` as these credentials see it (made on first use; it holds
    /// guests once a connection for the same key opened).
    public func view(uri: String, credentials: LibvirtCredentials? = nil) -> HostView {
        state.withLock { view(&$0, Key(uri: uri, credentials: credentials)) }
    }

    private func view(_ state: inout State, _ key: Key) -> HostView {
        if let view = state.views[key] { return view }
        let view = HostView(uri: key.uri, executor: viewExecutor, logger: logger, metrics: metrics)
        view.reopen.withLock {
            $0 = { [weak self] in
                guard let self else { return false }
                return (try? await self.connection(uri: key.uri, credentials: key.credentials)) != nil
            }
        }
        state.views[key] = view
        return view
    }

    /// Sets the gauges of connections per host and state and of each view's size and age (one
    /// series per URI; views of several credentials on one URI add up).
    public func collectMetrics(_ factory: any MetricsFactory) {
        let (open, opening, views) = state.withLock { state in
            (state.open.keys.map(\.uri), state.opening.keys.map(\.uri), Array(state.views.values))
        }
        var connections: [String: [String: Int]] = [:]
        for uri in open { connections[uri, default: ["open": 0, "opening": 0]]["open", default: 0] += 1 }
        for uri in opening { connections[uri, default: ["open": 0, "opening": 0]]["opening", default: 0] += 1 }
        for view in views where connections[view.uri] == nil { connections[view.uri] = ["open": 0, "opening": 0] }
        for (uri, states) in connections {
            for (state, count) in states {
                Gauge(label: "guesthouse_libvirt_connections", dimensions: [("host", uri), ("state", state)],
                      factory: factory).record(count)
            }
        }
        var sizes: [String: (guests: Int, age: Double)] = [:]
        for view in views {
            let stats = view.statistics
            let age = stats.age.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 } ?? -1
            let previous = sizes[view.uri]
            sizes[view.uri] = ((previous?.guests ?? 0) + stats.guests, max(previous?.age ?? -1, age))
        }
        for (uri, size) in sizes {
            Gauge(label: "guesthouse_view_guests", dimensions: [("host", uri)], factory: factory).record(size.guests)
            Gauge(label: "guesthouse_view_age_seconds", dimensions: [("host", uri)], factory: factory).record(size.age)
        }
    }

    /// How many connections are open, for tests and metrics.
    public var openCount: Int { state.withLock { $0.open.count } }
}
