/// Reads bytes from a stream of chunks on demand, never holding more than one chunk; a gzip
/// stream (by its magic bytes) is inflated as it is read, a piece at a time.
final class ByteReader: @unchecked Sendable {
    private var source: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator
    private var inflater: Inflater?
    private var started = false
    private var buffer: [UInt8] = []
    private var offset = 0
    /// Bytes handed out so far (of the inflated stream when gzipped).
    private(set) var position: UInt64 = 0

    init(_ stream: AsyncThrowingStream<[UInt8], any Error>) {
        source = stream.makeAsyncIterator()
    }

    private func nextRaw() async throws -> [UInt8]? {
        while true {
            guard let chunk = try await source.next() else { return nil }
            if !chunk.isEmpty { return chunk }
        }
    }

    private func nextChunk() async throws -> [UInt8]? {
        if !started {
            started = true
            guard var first = try await nextRaw() else { return nil }
            if first.count < 2, let more = try await nextRaw() { first += more }
            if first.count >= 2, first[0] == 0x1F, first[1] == 0x8B { inflater = try Inflater(first) } else { return first }
        }
        if let inflater { return try await inflater.next { try await self.nextRaw() } }
        return try await nextRaw()
    }

    private func fill() async throws -> Bool {
        while offset >= buffer.count {
            guard let chunk = try await nextChunk() else { return false }
            buffer = chunk
            offset = 0
        }
        return true
    }

    /// Exactly `count` bytes. - Throws: `invalidArguments` ("truncated") when the stream ends first.
    func read(_ count: Int) async throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count {
            guard try await fill() else { throw GuesthouseError.invalid("the archive is truncated") }
            let take = min(count - out.count, buffer.count - offset)
            out += buffer[offset..<(offset + take)]
            offset += take
            position += UInt64(take)
        }
        return out
    }

    /// One byte. - Throws: `invalidArguments` ("truncated") at the end of the stream.
    func byte() async throws -> UInt8 {
        guard try await fill() else { throw GuesthouseError.invalid("the archive is truncated") }
        offset += 1
        position += 1
        return buffer[offset - 1]
    }

    /// Passes exactly `count` bytes to `body` in pieces (each at most one chunk).
    func stream(_ count: UInt64, _ body: ([UInt8]) async throws -> Void) async throws {
        var left = count
        while left > 0 {
            guard try await fill() else { throw GuesthouseError.invalid("the archive is truncated") }
            let take = Int(min(left, UInt64(buffer.count - offset)))
            // A whole chunk passes as it is (shared, not copied).
            let piece = offset == 0 && take == buffer.count ? buffer : Array(buffer[offset..<(offset + take)])
            offset += take
            position += UInt64(take)
            left -= UInt64(take)
            try await body(piece)
        }
    }

    /// Drops everything up to the end of the stream.
    func drain() async throws {
        offset = buffer.count
        while let chunk = try await nextChunk() { position += UInt64(chunk.count) }
    }

    /// Drops exactly `count` bytes.
    func skip(_ count: UInt64) async throws {
        try await stream(count) { _ in }
    }
}
