import Foundation

/// A value behind a lock, for the small shared state of caches and pools.
/// (`Synchronization.Mutex` would do, but needs macOS 15.)
public final class Locked<Value>: @unchecked Sendable {
    @usableFromInline let lock = NSLock()
    @usableFromInline var value: Value

    public init(_ value: Value) { self.value = value }

    /// Runs `body` with exclusive access to the value. Inlinable, so each caller gets a version
    /// specialised for its types (not the generic one, which was a visible cost on hot routes).
    @inlinable
    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
