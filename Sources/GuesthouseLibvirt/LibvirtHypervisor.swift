import CoreMetrics
import Foundation
import GuesthouseCore
import Libvirt

/// The libvirt implementation of `Hypervisor` for one URI (one host). Cheap to make per request:
/// the connection comes from the shared pool. Every libvirt call of one operation runs in one hop
/// on the libvirt executor.
public struct LibvirtHypervisor: Hypervisor {
    let pool: ConnectionPool
    let executor: LibvirtExecutor
    public let uri: String
    let credentials: LibvirtCredentials?
    /// The family's name, named in "not supported" errors.
    public let family: String
    /// The domain type of new guests.
    public let domainType: String
    /// The host as the request named it.
    public let hostName: String
    /// Seconds one operation may take before it answers `hypervisorError`.
    let operationTimeout: Double
    /// Seconds a graceful stop waits for the guest to be off (`[server] stop_timeout`).
    let stopTimeout: Double

    public init(pool: ConnectionPool, executor: LibvirtExecutor, uri: String, credentials: LibvirtCredentials? = nil,
                family: String, domainType: String, hostName: String, operationTimeout: Double = 60,
                stopTimeout: Double = 30) {
        self.pool = pool
        self.executor = executor
        self.uri = uri
        self.credentials = credentials
        self.family = family
        self.domainType = domainType
        self.hostName = hostName
        self.operationTimeout = operationTimeout
        self.stopTimeout = stopTimeout
    }

    /// Runs `body` with a live connection on the libvirt executor, mapping libvirt's errors and
    /// dropping the connection when they say it is dead.
    /// Every operation but plain reads (`readOnly`) may change the host: before it answers, the
    /// host's view re-reads the domains it touched (and any it created or removed), so its client
    /// reads its own writes at once.
    public func withConnection<T: Sendable>(_ operation: String, readOnly: Bool = false,
                                     _ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        let start = ContinuousClock.now
        var outcome = "error"
        defer { recordCall(operation, outcome: outcome, since: start) }
        let conn = try await pool.connection(uri: uri, credentials: credentials)
        let view = readOnly ? nil : pool.view(uri: uri, credentials: credentials)
        let family = self.family
        do {
            let result = try await runOnExecutor(executor, pool.deadlines, seconds: operationTimeout,
                                                 what: "\(operation) on \(uri)") {
                let touched = TouchedDomains()
                defer { view?.refreshAfterWrite(touched: touched.uuids, conn) }
                return try touched.recording { try Self.run(body, on: conn, operation, family: family) }
            }
            outcome = "ok"
            return result
        } catch let dead as DeadConnection {
            pool.evict(uri: uri, credentials: credentials)
            throw dead.mapped
        }
    }

    /// `withConnection` for callers on threads of their own (the wirt spool's worker), which may
    /// block: the same pool, executor, deadline and error mapping, waited for without Swift's
    /// cooperative pool.
    public func withConnectionWaiting<T: Sendable>(_ operation: String, readOnly: Bool = false,
                                                   _ body: @escaping @Sendable (Connection) throws -> T) throws -> T {
        let conn = try pool.connectionWaiting(uri: uri, credentials: credentials)
        let view = readOnly ? nil : pool.view(uri: uri, credentials: credentials)
        let family = self.family
        do {
            return try runOnExecutorWaiting(executor, seconds: operationTimeout, what: "\(operation) on \(uri)") {
                let touched = TouchedDomains()
                defer { view?.refreshAfterWrite(touched: touched.uuids, conn) }
                return try touched.recording { try Self.run(body, on: conn, operation, family: family) }
            }
        } catch let dead as DeadConnection {
            pool.evict(uri: uri, credentials: credentials)
            throw dead.mapped
        }
    }

    /// Runs `body` (on the executor), mapping libvirt's errors; `DeadConnection` when the
    /// connection died under it.
    private static func run<T>(_ body: (Connection) throws -> T, on conn: Connection, _ operation: String,
                               family: String) throws -> T {
        do {
            return try body(conn)
        } catch let error as LibvirtError {
            if error.kind == .unreachable && !conn.isAlive {
                throw DeadConnection(mapped: LibvirtErrorMapping.map(error, operation: operation, family: family))
            }
            throw LibvirtErrorMapping.map(error, operation: operation, family: family)
        }
    }

    /// The per-domain and per-network locks every interface of this process shares.
    public var locks: LibvirtLocks { pool.locks }

    private struct DeadConnection: Error { let mapped: any Error }

    /// Counts a libvirt operation by host, operation and outcome, with its latency.
    private func recordCall(_ operation: String, outcome: String, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let dimensions = [("host", uri), ("operation", operation)]
        CoreMetrics.Counter(label: "guesthouse_libvirt_calls_total", dimensions: dimensions + [("outcome", outcome)],
                            factory: pool.metrics).increment()
        CoreMetrics.Timer(label: "guesthouse_libvirt_call_duration_seconds", dimensions: dimensions, factory: pool.metrics)
            .recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }

    func notImplemented(_ operation: String) -> GuesthouseError {
        .notImplemented("\(operation) is not supported on the \(family) family")
    }
}

extension LibvirtHypervisor {
    /// Finds a domain by UUID, or by name when `id` is not a UUID.
    public static func lookup(_ conn: Connection, id: String) throws -> Domain {
        if UUIDText.key(id) != nil {
            if let d = try? conn.domain(uuid: id) {
                TouchedDomains.record(d.uuid)
                return d
            }
        }
        do {
            let d = try conn.domain(name: id)
            TouchedDomains.record(d.uuid)
            return d
        } catch let error as LibvirtError where error.kind == .notFound || error.kind == .invalidArgument {
            throw GuesthouseError.notFound("guest '\(id)' not found")
        }
    }

    /// Notes that the write running on this worker touched `domain` (found by other means than
    /// `lookup`): the host's view re-reads it before the write answers.
    public static func touched(_ domain: Domain) {
        TouchedDomains.record(domain.uuid)
    }

    /// The one mapping of libvirt's states, which every API reports (Simplestack directly, vmango and
    /// containers through `Machine.state(_:)` and `Container.State(_:)`): a guest that is shutting
    /// down is running until it is off.
    public static func guestState(_ state: DomainState) -> GuestState {
        switch state {
        case .running, .blocked, .shutdown: .started
        case .paused, .pmSuspended: .paused
        case .shutoff, .crashed, .noState: .stopped
        }
    }
}
