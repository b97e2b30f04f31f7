import Foundation

/// Serializes work per key (a domain's UUID) inside this process, so that read-modify-write
/// changes of one domain's definition never lose each other's writes. Reentrant on one thread (a
/// device change that falls back to a guarded rewrite takes it twice). Blocking: use it only on
/// the libvirt executor, around short libvirt calls.
public final class KeyedLock: @unchecked Sendable {
    private let lock = NSLock()
    private var locks: [String: (lock: NSRecursiveLock, users: Int)] = [:]

    public init() {}

    /// Runs `body` holding the lock of `key`.
    public func withLock<T>(_ key: String, _ body: () throws -> T) rethrows -> T {
        let entry: NSRecursiveLock = lock.withLock {
            var e = locks[key] ?? (NSRecursiveLock(), 0)
            e.users += 1
            locks[key] = e
            return e.lock
        }
        entry.lock()
        defer {
            entry.unlock()
            lock.withLock {
                if var e = locks[key] {
                    e.users -= 1
                    locks[key] = e.users == 0 ? nil : e
                }
            }
        }
        return try body()
    }
}

/// The locks every interface of one process shares, made once by the build function: a vmango
/// change and a Simplestack change of one domain take the same lock.
public struct LibvirtLocks: Sendable {
    /// Read-modify-write of one domain's definition, keyed by URI and domain UUID.
    public let domains = KeyedLock()
    /// DHCP host entries, per network, so that two creates never reserve one address.
    public let networks = KeyedLock()

    public init() {}
}
