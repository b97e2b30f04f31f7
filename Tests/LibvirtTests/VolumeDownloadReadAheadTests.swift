import Foundation
@testable import GuesthouseLibvirt
import GuesthouseTestSupport
import Testing

/// The thread that reads the download helper's pipe ahead of the consumer: frames arrive in order,
/// it never holds more than its capacity, errors reach the consumer, and `cancel` releases it.
@Suite struct VolumeDownloadReadAheadTests {
    /// What the reading thread did, seen from the test.
    final class Source: @unchecked Sendable {
        private let lock = NSLock()
        private var read = 0
        private var taken = 0
        private var mostAhead = 0
        private var finished = false
        let frames: Int
        let failAfter: Int?

        init(frames: Int, failAfter: Int? = nil) {
            self.frames = frames
            self.failAfter = failAfter
        }

        struct Broken: Error {}

        /// The reading closure: data frames of 1000 bytes numbered from 0, then `end` (or a failure).
        func next() throws -> VolumeDownloadFrame {
            try lock.withLock {
                if let failAfter, read == failAfter { throw Broken() }
                defer { read += 1 }
                mostAhead = max(mostAhead, read + 1 - taken)
                return read < frames ? .data([UInt8](repeating: UInt8(read % 256), count: 1000)) : .end
            }
        }

        func took() { lock.withLock { taken += 1 } }
        func done() { lock.withLock { finished = true } }
        var state: (read: Int, mostAhead: Int, finished: Bool) { lock.withLock { (read, mostAhead, finished) } }
    }

    @Test func framesArriveInOrderAndNoMoreThanTheCapacityIsReadAhead() async throws {
        let source = Source(frames: 20)
        let ahead = VolumeDownloadReadAhead(capacity: 3000)
        ahead.start(reading: { try source.next() }, done: { source.done() })
        // Nobody consumes yet: three frames wait and the fourth is read, waiting for room.
        #expect(try await eventually(10, every: .milliseconds(5)) { source.state.read == 4 })
        var got: [VolumeDownloadFrame] = []
        while true {
            let frame = try await ahead.next()
            source.took()
            got.append(frame)
            if frame == .end { break }
        }
        #expect(got == (0..<20).map { .data([UInt8](repeating: UInt8($0), count: 1000)) } + [.end])
        // At most: three waiting, one read and waiting for room, one handed to the consumer.
        #expect(source.state.mostAhead <= 5)
        #expect(try await eventually(10, every: .milliseconds(5)) { source.state.finished })
    }

    @Test func anErrorReachesTheConsumerAfterTheFramesBeforeIt() async throws {
        let source = Source(frames: 20, failAfter: 2)
        let ahead = VolumeDownloadReadAhead(capacity: 1 << 20)
        ahead.start(reading: { try source.next() }, done: { source.done() })
        #expect(try await ahead.next() == .data([UInt8](repeating: 0, count: 1000)))
        #expect(try await ahead.next() == .data([UInt8](repeating: 1, count: 1000)))
        await #expect(throws: Source.Broken.self) { try await ahead.next() }
        #expect(try await eventually(10, every: .milliseconds(5)) { source.state.finished })
    }

    @Test func cancelReleasesAThreadWaitingForRoom() async throws {
        let source = Source(frames: 1000)
        let ahead = VolumeDownloadReadAhead(capacity: 1000)
        ahead.start(reading: { try source.next() }, done: { source.done() })
        #expect(try await eventually(10, every: .milliseconds(5)) { source.state.read == 2 })
        #expect(!source.state.finished)
        ahead.cancel()
        #expect(try await eventually(10, every: .milliseconds(5)) { source.state.finished })
        #expect(source.state.read == 2)
    }
}
