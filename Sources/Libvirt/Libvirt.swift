internal import CLibvirt
import Foundation
import NIOPosix

/// Process-wide libvirt set-up: library initialisation, the silent error handler and the event loop.
public enum Libvirt {
    private static let setUp: Void = {
        _ = virInitialize()
        // libvirt would print every error to stderr; errors are read per call instead.
        virSetErrorFunc(nil, { _, _ in })
        // Registered before any connection opens; `LibvirtEventLoop` runs it.
        _ = virEventRegisterDefaultImpl()
    }()

    /// Initialises libvirt once per process and registers its default event implementation, which a
    /// `LibvirtEventLoop` runs. Safe to call any number of times.
    public static func initialize() {
        setUp
    }

    /// The version of the libvirt library this process runs, e.g. "9.0.0".
    public static var libraryVersion: String {
        var version: UInt = 0
        _ = virGetVersion(&version, nil, nil)
        return formatVersion(version)
    }

    static func formatVersion(_ v: UInt) -> String {
        "\(v / 1_000_000).\((v / 1000) % 1000).\(v % 1000)"
    }
}

/// Runs blocking libvirt calls on a dedicated thread pool, never on Swift's cooperative pool.
public final class LibvirtExecutor: Sendable {
    private let pool: NIOThreadPool

    /// Starts `threads` worker threads. A slow host occupies one worker per call in flight.
    public init(threads: Int = 16) {
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    /// Runs `body` on a worker thread and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }

    /// Queues `work` for a worker thread without waiting for it; `work` learns whether the pool
    /// was still running (false: it is shutting down and `work` must only clean up).
    public func submit(_ work: @escaping @Sendable (_ active: Bool) -> Void) {
        pool.submit { state in
            if case .active = state { work(true) } else { work(false) }
        }
    }

    deinit {
        pool.shutdownGracefully { _ in }
    }
}
