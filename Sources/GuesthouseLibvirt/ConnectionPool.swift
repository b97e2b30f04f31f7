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

    private let executor: LibvirtExecutor
    private let connectTimeout: Double
    let logger: Logger
    private let state = Locked(State())

    private struct State {
        var open: [Key: Connection] = [:]
        var opening: [Key: Task<Connection, any Error>] = [:]
    }

    /// - Parameters:
    ///   - executor: where blocking opens run.
    ///   - connectTimeout: seconds an open may take before the request fails with `hypervisorError`.
    /// Recently read guest infos (see `GuestInfoCache`).
    public let guestInfo: GuestInfoCache

    public init(executor: LibvirtExecutor, connectTimeout: Double = 10, infoCacheSeconds: Double = 1,
                logger: Logger = Logger(label: "guesthouse.libvirt")) {
        self.guestInfo = GuestInfoCache(ttl: .milliseconds(Int64(infoCacheSeconds * 1000)))
        self.executor = executor
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
                logger.info("libvirt connection lost, reopening", metadata: ["uri": "\(uri)"])
            }
            if let pending = state.opening[key] { return .opening(pending) }
            // The open stays registered until libvirt returns, even after callers gave up on it, so a
            // host that hangs costs one blocked worker, not one per request.
            let task = Task { [executor, registry = self.state] () throws -> Connection in
                do {
                    let conn = try await executor.run {
                        do {
                            let conn = try Connection(uri: uri, credentials: credentials)
                            if Self.isRemote(uri) { conn.setKeepAlive(interval: 5, count: 3) }
                            return conn
                        } catch {
                            throw LibvirtErrorMapping.map(error, operation: "connect to \(uri)")
                        }
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
            return try await withTimeout(seconds: connectTimeout, what: "hypervisor \(uri)") {
                try await opening.value
            }
        }
    }

    /// Whether the URI names a remote host (keepalive applies), e.g. `qemu+ssh://host/system`.
    static func isRemote(_ uri: String) -> Bool {
        guard let range = uri.range(of: "://") else { return false }
        return uri[range.upperBound...].first.map { $0 != "/" } ?? false
    }

    /// Drops the connection to `uri` (after a failure that suggests it is dead); the next request reopens.
    public func evict(uri: String, credentials: LibvirtCredentials? = nil) {
        let key = Key(uri: uri, credentials: credentials)
        _ = state.withLock { $0.open.removeValue(forKey: key) }
    }

    /// How many connections are open, for tests and metrics.
    public var openCount: Int { state.withLock { $0.open.count } }
}
