/// Waiting for libvirt to report a state, without holding a thread: each check is one short hop (the
/// caller's, e.g. one state read on the libvirt executor) and the pauses between them are async.
public enum Polling {
    /// Calls `check` until it answers true or `deadline` passes; pauses grow from 50 ms to 500 ms.
    /// - Returns: true when `check` answered true, false when the deadline passed first (`check` is
    ///   always called once more at the deadline, so a state reached just in time counts).
    /// - Throws: what `check` throws, or `CancellationError` when the task is cancelled.
    public static func until(deadline: ContinuousClock.Instant,
                             _ check: () async throws -> Bool) async throws -> Bool {
        var pause = Duration.milliseconds(50)
        while true {
            if try await check() { return true }
            let now = ContinuousClock.now
            guard now < deadline else { return false }
            try await Task.sleep(until: min(now + pause, deadline), clock: .continuous)
            pause = min(pause * 2, .milliseconds(500))
        }
    }
}
