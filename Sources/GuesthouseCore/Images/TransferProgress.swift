import Foundation

/// Bytes done of a long transfer, shared between the work doing it and whoever reports on it.
public final class TransferProgress: Sendable {
    private let state = Locked((done: UInt64(0), total: UInt64(0)))

    public init(total: UInt64 = 0) { state.withLock { $0.total = total } }

    /// Bytes done so far.
    public var done: UInt64 { state.withLock { $0.done } }
    /// Bytes to do (0 while unknown).
    public var total: UInt64 { state.withLock { $0.total } }

    /// Counts `bytes` more as done.
    public func add(_ bytes: Int) { state.withLock { $0.done += UInt64(bytes) } }
    /// Sets the total, and starts counting again from zero.
    public func start(total: UInt64) { state.withLock { $0 = (0, total) } }
    /// Marks everything as done.
    public func complete() { state.withLock { $0.done = max($0.done, $0.total) } }
}
