import Foundation

/// Deadlines of libvirt operations in flight, checked by one watcher a few times a second. Arming
/// and disarming one is a lock and a dictionary write, with no task, no timer and no wake-up of
/// another thread: the price paid on every operation. A deadline fires at most `tick` late.
/// Made once by the build function and shared through the `ConnectionPool`.
public final class DeadlineWatch: @unchecked Sendable {

    private let lock = NSLock()
    private var entries: [UInt64: (deadline: ContinuousClock.Instant, fire: @Sendable () -> Void)] = [:]
    private var nextID: UInt64 = 0
    private var watching = false
    private let tick: Duration

    /// - Parameter tick: how often deadlines are checked, and so how late one may fire.
    public init(tick: Duration = .milliseconds(100)) { self.tick = tick }

    /// Calls `fire` once `seconds` have passed, unless `disarm` is called with the returned id first.
    public func arm(seconds: Double, _ fire: @escaping @Sendable () -> Void) -> UInt64 {
        let deadline = ContinuousClock.now + .nanoseconds(Int64(seconds * 1e9))
        let (id, start) = lock.withLock { () -> (UInt64, Bool) in
            nextID &+= 1
            entries[nextID] = (deadline, fire)
            let start = !watching
            watching = true
            return (nextID, start)
        }
        if start { startWatching() }
        return id
    }

    /// Forgets a deadline armed before; it will not fire.
    public func disarm(_ id: UInt64) {
        lock.withLock { _ = entries.removeValue(forKey: id) }
    }

    /// One detached loop per watch, started with the first deadline; it ends once the watch is gone.
    private func startWatching() {
        Task.detached { [weak self, tick] in
            while true {
                try? await Task.sleep(for: tick)
                guard let self else { return }
                let now = ContinuousClock.now
                let due: [@Sendable () -> Void] = lock.withLock {
                    let expired = entries.filter { $0.value.deadline <= now }
                    for id in expired.keys { entries.removeValue(forKey: id) }
                    return expired.values.map(\.fire)
                }
                for fire in due { fire() }
            }
        }
    }
}
