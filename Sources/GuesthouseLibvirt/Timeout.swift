import Foundation
import GuesthouseCore
import Libvirt

/// Runs `body`, or throws `hypervisorError` when it has not finished after `seconds`.
///
/// Unlike a task group, this returns at the deadline even when `body` cannot be cancelled (a libvirt
/// call blocked in a worker thread): `body` then goes on in the background and its result is dropped.
func withTimeout<T: Sendable>(_ deadlines: DeadlineWatch, seconds: Double, what: String,
                              _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let race = TimeoutRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.set(continuation)
            let work = Task {
                do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
            }
            let deadline = deadlines.arm(seconds: seconds) {
                race.finish(.failure(GuesthouseError.hypervisor("\(what) did not answer within \(Int(seconds)) s")))
                work.cancel()
            }
            race.onFinish { deadlines.disarm(deadline) }
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// Runs `body` on the libvirt executor, or throws `hypervisorError` when it has not finished after
/// `seconds`: the blocked worker goes on and its result is dropped. The hot path of every libvirt
/// operation, so it makes no extra task: the work is queued straight onto the pool and the deadline
/// goes to the `DeadlineWatch`.
func runOnExecutor<T: Sendable>(_ executor: LibvirtExecutor, _ deadlines: DeadlineWatch, seconds: Double, what: String,
                                _ body: @escaping @Sendable () throws -> T) async throws -> T {
    let race = TimeoutRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.set(continuation)
            let deadline = deadlines.arm(seconds: seconds) {
                race.finish(.failure(GuesthouseError.hypervisor("\(what) did not answer within \(Int(seconds)) s")))
            }
            race.onFinish { deadlines.disarm(deadline) }
            executor.submit { active in
                guard active else { return race.finish(.failure(CancellationError())) }
                race.finish(Result { try body() })
            }
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// `runOnExecutor` for callers on threads of their own (the wirt spool's worker), which may block:
/// the calling thread waits for the worker, at most `seconds`, then throws `hypervisorError` and the
/// blocked worker goes on with its result dropped. Needs no thread of Swift's cooperative pool.
func runOnExecutorWaiting<T: Sendable>(_ executor: LibvirtExecutor, seconds: Double, what: String,
                                       _ body: @escaping @Sendable () throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    let outcome = Locked<Result<T, any Error>?>(nil)
    executor.submit { active in
        outcome.withLock { $0 = active ? Result { try body() } : .failure(CancellationError()) }
        done.signal()
    }
    guard done.wait(timeout: .now() + seconds) == .success, let result = outcome.withLock({ $0 }) else {
        throw GuesthouseError.hypervisor("\(what) did not answer within \(Int(seconds)) s")
    }
    return try result.get()
}

/// Resumes a continuation exactly once, with whichever result arrives first.
private final class TimeoutRace<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var result: Result<T, any Error>?
    private var finished = false
    private var cleanup: (@Sendable () -> Void)?

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        lock.lock()
        if let result {
            lock.unlock()
            continuation.resume(with: result)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    func onFinish(_ action: @escaping @Sendable () -> Void) {
        lock.lock()
        if finished {
            lock.unlock()
            action()
            return
        }
        cleanup = action
        lock.unlock()
    }

    func finish(_ outcome: Result<T, any Error>) {
        lock.lock()
        guard !finished else { lock.unlock(); return }
        finished = true
        let continuation = self.continuation
        self.continuation = nil
        if continuation == nil { result = outcome }
        let cleanup = self.cleanup
        lock.unlock()
        continuation?.resume(with: outcome)
        cleanup?()
    }
}
