import Foundation

/// The helper's frames, read from its pipe ahead of the consumer by a thread of its own, with at
/// most `capacity` bytes of data waiting: the pipe is read while the previous frames are written
/// to the client, and the consumer takes a waiting frame without a hop to another thread. When
/// the queue is full the thread stops reading, the pipe fills and the helper blocks, so memory
/// stays bounded however slowly the consumer goes.
final class VolumeDownloadReadAhead: @unchecked Sendable {
    private let capacity: Int
    private let condition = NSCondition()
    private var frames: [VolumeDownloadFrame] = []
    private var head = 0
    private var queued = 0
    /// Why reading stopped before an end or failure frame (the pipe ended, or a frame was malformed).
    private var failure: (any Error)?
    private var cancelled = false
    private var waiter: CheckedContinuation<VolumeDownloadFrame, any Error>?

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Starts the reading thread: it reads frames with `read` until an end or failure frame, an
    /// error (passed on to the consumer) or `cancel()`, then calls `done`.
    func start(reading read: @escaping @Sendable () throws -> VolumeDownloadFrame, done: @escaping @Sendable () -> Void) {
        let thread = Thread { [self] in
            defer { done() }
            while true {
                let frame: VolumeDownloadFrame
                do { frame = try read() } catch {
                    stop(error)
                    return
                }
                guard push(frame) else { return }
                switch frame {
                case .end, .failure: return
                case .data, .hole, .warning: continue
                }
            }
        }
        thread.name = "volume-download"
        thread.start()
    }

    /// The next frame, in order; throws what stopped the reading thread.
    func next() async throws -> VolumeDownloadFrame {
        if let frame = try take() { return frame }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if let frame = pop() {
                condition.unlock()
                continuation.resume(returning: frame)
            } else if let failure {
                condition.unlock()
                continuation.resume(throwing: failure)
            } else {
                waiter = continuation
                condition.unlock()
            }
        }
    }

    /// Stops the reading thread (the consumer is gone) and drops what waits.
    func cancel() {
        condition.lock()
        cancelled = true
        frames = []
        head = 0
        queued = 0
        let waiting = waiter
        waiter = nil
        condition.broadcast()
        condition.unlock()
        waiting?.resume(throwing: CancellationError())
    }

    private func take() throws -> VolumeDownloadFrame? {
        condition.lock()
        defer { condition.unlock() }
        if let frame = pop() { return frame }
        if let failure { throw failure }
        return nil
    }

    /// The first waiting frame; the lock is held.
    private func pop() -> VolumeDownloadFrame? {
        guard head < frames.count else { return nil }
        let frame = frames[head]
        head += 1
        if head == frames.count {
            frames.removeAll(keepingCapacity: true)
            head = 0
        }
        queued -= Self.size(frame)
        condition.signal()
        return frame
    }

    /// Hands `frame` to a waiting consumer or queues it, waiting for room; false once cancelled.
    private func push(_ frame: VolumeDownloadFrame) -> Bool {
        condition.lock()
        while !cancelled && waiter == nil && queued > 0 && queued + Self.size(frame) > capacity {
            condition.wait()
        }
        if cancelled {
            condition.unlock()
            return false
        }
        if let waiting = waiter {
            waiter = nil
            condition.unlock()
            waiting.resume(returning: frame)
            return true
        }
        frames.append(frame)
        queued += Self.size(frame)
        condition.unlock()
        return true
    }

    private func stop(_ error: any Error) {
        condition.lock()
        failure = error
        let waiting = waiter
        waiter = nil
        condition.unlock()
        waiting?.resume(throwing: error)
    }

    private static func size(_ frame: VolumeDownloadFrame) -> Int {
        if case .data(let bytes) = frame { return bytes.count }
        return 0
    }
}
