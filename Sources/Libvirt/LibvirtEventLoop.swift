internal import CLibvirt
import Foundation
import ServiceLifecycle

/// libvirt's default event loop, run on a thread of its own while this Service runs. It carries
/// keepalive (dead remote hosts are noticed), connection close callbacks and domain and storage
/// pool events. Make one in the builder and run it in the ServiceGroup; it stops on graceful shutdown.
///
/// libvirt has one event loop implementation per process, so loops made here share one thread:
/// it runs while at least one of them is started (tests may start several).
public final class LibvirtEventLoop: Service, Sendable {
    private let started = Runner.Token()

    /// Registers libvirt's default event implementation (once per process); nothing runs yet.
    public init() {
        Libvirt.initialize()
    }

    /// Starts dispatching events on the shared thread (idempotent).
    public func start() {
        Runner.shared.retain(started)
    }

    /// Stops dispatching for this loop; the thread ends when no started loop is left.
    public func stop() {
        Runner.shared.release(started)
    }

    /// Runs until graceful shutdown (or cancellation), then stops.
    public func run() async throws {
        start()
        defer { stop() }
        try? await gracefulShutdown()
    }

    /// Whether an event loop thread is dispatching now.
    public static var isRunning: Bool { Runner.shared.isRunning }
}

/// The one thread that calls `virEventRunDefaultImpl`; libvirt's loop is process-wide.
private final class Runner: @unchecked Sendable {
    /// Identity of one started loop.
    final class Token: @unchecked Sendable {}

    static let shared = Runner()

    private let lock = NSLock()
    private var holders = Set<ObjectIdentifier>()
    private var thread: Thread?
    private var stopping = false

    var isRunning: Bool { lock.withLock { thread != nil && !stopping } }

    func retain(_ token: Token) {
        lock.lock()
        defer { lock.unlock() }
        holders.insert(ObjectIdentifier(token))
        stopping = false
        guard thread == nil else { return }
        let thread = Thread { [self] in
            while !shouldStop() { _ = virEventRunDefaultImpl() }
        }
        thread.name = "libvirt-events"
        thread.stackSize = 1 << 20
        self.thread = thread
        thread.start()
    }

    func release(_ token: Token) {
        lock.lock()
        defer { lock.unlock() }
        guard holders.remove(ObjectIdentifier(token)) != nil, holders.isEmpty, thread != nil else { return }
        stopping = true
        // Wakes the loop: a timeout due at once, which removes itself when it fires.
        _ = virEventAddTimeout(0, { timer, _ in virEventRemoveTimeout(timer) }, nil, nil)
    }

    /// Called by the loop thread between iterations: true once every loop was stopped.
    private func shouldStop() -> Bool {
        lock.withLock {
            guard stopping else { return false }
            stopping = false
            thread = nil
            return true
        }
    }
}
