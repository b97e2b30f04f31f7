import Foundation
import GuesthouseCore
@testable import GuesthouseLibvirt
import Libvirt
import Testing

@Suite struct DeadlineWatchTests {
    /// Fires armed deadlines, in order, not before they are due; a disarmed one never fires.
    @Test func deadlinesFireOnceAndDisarmedOnesNever() async throws {
        let watch = DeadlineWatch(tick: .milliseconds(20))
        let fired = FiredLog()
        let started = ContinuousClock.now
        let disarmed = watch.arm(seconds: 0.1) { fired.add("disarmed") }
        watch.disarm(disarmed)
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            _ = watch.arm(seconds: 0.2) { fired.add("first") }
            _ = watch.arm(seconds: 0.4) {
                fired.add("second")
                done.resume()
            }
        }
        #expect(ContinuousClock.now - started >= .milliseconds(400))
        #expect(fired.names == ["first", "second"])
    }

    final class FiredLog: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func add(_ name: String) { lock.withLock { list.append(name) } }
        var names: [String] { lock.withLock { list } }
    }
}

extension DeadlineWatchTests {
    /// A libvirt call that never returns answers `HypervisorError` at its deadline, while the
    /// blocked worker goes on; a quick one returns its value.
    @Test func anOperationThatHangsAnswersAtItsDeadline() async throws {
        let executor = LibvirtExecutor(threads: 2)
        #expect(try await runOnExecutor(executor, DeadlineWatch(), seconds: 5, what: "quick") { 42 } == 42)
        let release = DispatchSemaphore(value: 0)
        defer { release.signal() }
        let started = ContinuousClock.now
        await #expect(throws: GuesthouseError.self) {
            try await runOnExecutor(executor, DeadlineWatch(), seconds: 0.3, what: "stuck call") { release.wait() }
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(3))
    }
}
