/// Polls `condition` until it holds or `seconds` pass, waiting `every` between tries; whether it
/// held. The tests' one way to wait for a state: a deadline, never a fixed sleep.
public func eventually(_ seconds: Double = 60, every interval: Duration = .milliseconds(100),
                       _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: interval)
    }
    return try await condition()
}
