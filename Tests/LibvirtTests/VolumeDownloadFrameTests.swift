@testable import GuesthouseLibvirt
import Testing

/// The helper's frames survive the pipe byte for byte, and a reader refuses what no helper writes.
@Suite struct VolumeDownloadFrameTests {
    /// Reads frames from `bytes` as `VolumeDownloadProcess` reads them from its pipe.
    private static func decode(_ bytes: [UInt8]) throws -> [VolumeDownloadFrame] {
        var offset = 0
        var frames: [VolumeDownloadFrame] = []
        while offset < bytes.count {
            frames.append(try VolumeDownloadFrame.read { raw in
                guard offset + raw.count <= bytes.count else { throw VolumeDownloadProcess.Ended() }
                raw.copyBytes(from: bytes[offset..<(offset + raw.count)])
                offset += raw.count
            })
        }
        return frames
    }

    @Test func everyKindOfFrameRoundTrips() throws {
        let frames: [VolumeDownloadFrame] = [
            .data([1, 2, 3, 255]), .hole(21_474_836_480), .warning("no sparse stream: ü"), .data([]),
            .failure(code: 38, domain: -7, message: "cannot open volume"), .end,
        ]
        #expect(try Self.decode(frames.flatMap { $0.encoded() }) == frames)
        #expect(VolumeDownloadFrame.dataHeader(count: 4) == Array(VolumeDownloadFrame.data([1, 2, 3, 255]).encoded().prefix(9)))
    }

    @Test func cutOrForeignBytesAreRefused() {
        let data = VolumeDownloadFrame.data([UInt8](repeating: 7, count: 100)).encoded()
        #expect(throws: (any Error).self) { try Self.decode(Array(data.prefix(50))) }
        #expect(throws: (any Error).self) { try Self.decode([0x41] + [UInt8](repeating: 0, count: 8)) }
        // A length past the largest payload is refused before anything is allocated.
        #expect(throws: (any Error).self) { try Self.decode([0x44, 0, 0, 0, 0, 0, 0, 0, 1]) }
    }
}
