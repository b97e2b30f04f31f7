import GuesthouseConfig
import GuesthouseCore

/// Counts failed logins per user name and per source address within a window, and refuses further
/// attempts (before any bcrypt is paid) once either count reaches its limit, until the window that
/// began with the first failure ends. The tables are bounded: expired entries are swept when one
/// fills, and if it is still full the oldest entry goes, so a flood of random user names costs a
/// fixed amount of memory. Per replica, in memory.
public final class LoginThrottle: Sendable {
    private let perUser: Int
    private let perAddress: Int
    private let window: Duration
    private let capacity: Int
    /// How long a refused attempt waits before its 429 (a tarpit: a flood on a few connections then
    /// costs the server next to nothing; the wait holds no thread).
    public let refusalDelay: Duration
    private let state = Locked(State())

    private struct Entry {
        var failures: Int
        var since: ContinuousClock.Instant
    }

    private struct State {
        var users: [String: Entry] = [:]
        var addresses: [String: Entry] = [:]
    }

    /// - Parameters:
    ///   - perUser: failures of one user name before it is refused; `perAddress` likewise per source address.
    ///   - window: how long failures count, in seconds.
    ///   - capacity: the most entries each table keeps.
    ///   - refusalDelay: how long a refused attempt waits before it is answered.
    public init(perUser: Int = 5, perAddress: Int = 20, window: Int = 60, capacity: Int = 10_000,
                refusalDelay: Duration = .seconds(1)) {
        self.refusalDelay = refusalDelay
        self.perUser = perUser
        self.perAddress = perAddress
        self.window = .seconds(window)
        self.capacity = capacity
    }

    /// The limits of `[server]`.
    public convenience init(_ server: ServerConfig) {
        self.init(perUser: server.loginFailuresPerUser, perAddress: server.loginFailuresPerAddress,
                  window: server.loginWindowSeconds)
    }

    /// - Throws: `GuesthouseError.tooManyRequests` (with `retryAfter`) when `user` or `address` is refused now.
    public func check(user: String, address: String?) throws {
        let now = ContinuousClock.now
        let wait: Duration? = state.withLock { state in
            var wait: Duration?
            if let entry = state.users[user], entry.failures >= perUser, entry.since + window > now {
                wait = entry.since + window - now
            }
            if let address, let entry = state.addresses[address], entry.failures >= perAddress, entry.since + window > now {
                wait = max(wait ?? .zero, entry.since + window - now)
            }
            return wait
        }
        guard let wait else { return }
        let seconds = max(1, Int((Double(wait.components.seconds) + Double(wait.components.attoseconds) / 1e18).rounded(.up)))
        throw GuesthouseError(.tooManyRequests, "too many failed logins; try again in \(seconds) s", retryAfter: seconds)
    }

    /// Counts a failed login of `user` from `address`.
    public func recordFailure(user: String, address: String?) {
        let now = ContinuousClock.now
        state.withLock { state in
            count(&state.users, user, now)
            if let address { count(&state.addresses, address, now) }
        }
    }

    /// How many entries the tables hold (user names, addresses).
    public var sizes: (users: Int, addresses: Int) {
        state.withLock { ($0.users.count, $0.addresses.count) }
    }

    private func count(_ table: inout [String: Entry], _ key: String, _ now: ContinuousClock.Instant) {
        if var entry = table[key], entry.since + window > now {
            entry.failures += 1
            table[key] = entry
            return
        }
        if table[key] == nil, table.count >= capacity {
            table = table.filter { $0.value.since + window > now }
            if table.count >= capacity, let oldest = table.min(by: { $0.value.since < $1.value.since }) {
                table[oldest.key] = nil
            }
        }
        table[key] = Entry(failures: 1, since: now)
    }
}
