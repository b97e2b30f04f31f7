import Foundation

/// Deadlines of libvirt operations in flight, checked by one watcher a few times a second. Arming
/// and disarming one is a lock and a dictionary write, with no task, no timer and no wake-up of
/// another thread: the price paid on every operation. A deadline fires at most `tick` late.
final class DeadlineWatch: @unchecked Sendable {
    static let shared = DeadlineWatch(tick: .milliseconds(100))

    private let lock = NSLock()
    private var entries: [UInt64: (deadline: ContinuousClock.Instant, fire: @Sendable () -> Void)] = [:]
    private var nextID: UInt64 = 0
    private var watching = false
    private let tick: Duration

    init(tick: Duration) { self.tick = tick }

    /// Calls `fire` once `seconds` have passed, unless `disarm` is called with the returned id first.
    func arm(seconds: Double, _ fire: @escaping @Sendable () -> Void) -> UInt64 {
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

    func disarm(_ id: UInt64) {
        lock.withLock { _ = entries.removeValue(forKey: id) }
    }

    /// One detached loop for the process, started with the first deadline.
    private func startWatching() {
        Task.detached { [self] in
            while true {
                try? await Task.sleep(for: tick)
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
