import GuesthouseCore

/// Runs `body`, or throws `hypervisorError` when it has not finished after `seconds`. The body's
/// blocking work may go on in the background; its result is then dropped.
func withTimeout<T: Sendable>(seconds: Double, what: String,
                              _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try? await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw GuesthouseError.hypervisor("\(what) did not answer within \(Int(seconds)) s")
        }
        return value
    }
}
