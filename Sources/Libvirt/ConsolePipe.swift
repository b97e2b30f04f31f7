internal import CLibvirt
import Foundation

/// A two-way byte pipe to a guest's console: its serial console (a non-blocking libvirt stream from
/// `Domain.openSerialConsole`) or its graphics server (a socket from `Domain.openGraphicsSocket`).
///
/// What the guest writes arrives on `output`, read on libvirt's event loop (a `LibvirtEventLoop`
/// must run); `send` writes to the guest and may block briefly (call it through a `LibvirtExecutor`).
/// `close` ends both directions, aborts the stream or closes the socket; `output` then finishes.
/// It also finishes by itself when the guest side ends (the guest stopped, the console was taken).
public final class ConsolePipe: @unchecked Sendable {
    /// What the guest writes, in chunks as they arrive; finishes at the end of the console.
    public let output: AsyncStream<[UInt8]>

    private enum Source {
        case stream(OpaquePointer)
        case socket(Int32)
    }

    private let source: Source
    private let lock = NSLock()
    private var closed = false
    /// The event loop registration: the handle's watch (socket) or 0 (stream); nil before it and once removed.
    private var watch: Int32?
    private let continuation: AsyncStream<[UInt8]>.Continuation

    private init(source: Source) {
        self.source = source
        (output, continuation) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .unbounded)
    }

    deinit {
        close()
    }

    /// Wraps a non-blocking stream that a console was opened on, and starts reading it.
    static func stream(_ stream: OpaquePointer) throws -> ConsolePipe {
        let events = Int32(VIR_STREAM_EVENT_READABLE.rawValue | VIR_STREAM_EVENT_ERROR.rawValue
            | VIR_STREAM_EVENT_HANGUP.rawValue)
        return try ConsolePipe(source: .stream(stream)).watching("virStreamEventAddCallback") { opaque in
            virStreamEventAddCallback(stream, events, { _, _, opaque in Reader.wake(opaque) }, opaque, Reader.release)
        }
    }

    /// Wraps a connected socket (made non-blocking here), and starts reading it.
    static func socket(_ fd: Int32) throws -> ConsolePipe {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let events = Int32(VIR_EVENT_HANDLE_READABLE.rawValue | VIR_EVENT_HANDLE_ERROR.rawValue
            | VIR_EVENT_HANDLE_HANGUP.rawValue)
        return try ConsolePipe(source: .socket(fd)).watching("virEventAddHandle") { opaque in
            virEventAddHandle(fd, events, { _, _, _, opaque in Reader.wake(opaque) }, opaque, Reader.release)
        }
    }

    /// Registers the pipe with libvirt's event loop through `register` (which returns a watch, or
    /// -1); on failure, closes the pipe (and what it wraps) and throws libvirt's error.
    private func watching(_ call: String, _ register: (UnsafeMutableRawPointer) -> Int32) throws -> ConsolePipe {
        let opaque = Unmanaged.passRetained(Reader(self)).toOpaque()
        let watch = register(opaque)
        if watch < 0 {
            let error = LibvirtError.last(call)
            Unmanaged<Reader>.fromOpaque(opaque).release()
            close()
            throw error
        }
        lock.withLock { self.watch = watch }
        return self
    }

    /// Whether `close` ran or the guest side ended.
    public var isClosed: Bool { lock.withLock { closed } }

    /// Writes all of `bytes` to the guest. Blocks while the guest side is full (briefly, a console
    /// reads fast); run it through a `LibvirtExecutor`.
    /// - Throws: `LibvirtError` when the pipe is closed or the write fails.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written: Int = try lock.withLock {
                guard !closed else { throw LibvirtError(code: -1, domain: 0, message: "the console is closed") }
                return try bytes.withUnsafeBytes { raw in
                    let base = raw.baseAddress!.advanced(by: offset)
                    switch source {
                    case .stream(let stream):
                        let n = virStreamSend(stream, base.assumingMemoryBound(to: CChar.self), bytes.count - offset)
                        if n == -2 { return 0 }
                        if n < 0 { throw LibvirtError.last("virStreamSend") }
                        return Int(n)
                    case .socket(let fd):
                        let n = write(fd, base, bytes.count - offset)
                        if n < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
                        if n < 0 { throw LibvirtError(code: errno, domain: 0, message: "write: \(String(cString: strerror(errno)))") }
                        return n
                    }
                }
            }
            offset += written
            // The guest side is full: give it a moment (this runs on a libvirt worker thread).
            if written == 0 { usleep(2000) }
        }
    }

    /// Ends the pipe: stops reading, aborts the stream or closes the socket, finishes `output`.
    /// Safe to call any number of times, from any thread.
    public func close() {
        let watch: Int32? = lock.withLock {
            if closed { return nil }
            closed = true
            defer { self.watch = nil }
            return self.watch ?? -1
        }
        guard let watch else { return }
        // Deregistered outside the lock: a read in flight on the event thread finishes first.
        switch source {
        case .stream(let stream):
            if watch >= 0, virStreamEventRemoveCallback(stream) < 0 { virResetLastError() }
            lock.withLock {
                if virStreamAbort(stream) < 0 { virResetLastError() }
                virStreamFree(stream)
            }
        case .socket(let fd):
            if watch >= 0, virEventRemoveHandle(watch) < 0 { virResetLastError() }
            // Under the lock, so a read in flight never sees the number reused.
            lock.withLock { closeDescriptor(fd) }
        }
        continuation.finish()
    }

    /// Reads what is available (on libvirt's event thread); at the end or on an error, closes.
    private func readAvailable() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var ended = false
        lock.withLock {
            guard !closed else { return }
            // A bounded number of reads per wake-up keeps the event loop serving other consoles.
            for _ in 0..<16 {
                let n: Int = buffer.withUnsafeMutableBytes { raw in
                    switch source {
                    case .stream(let stream):
                        let n = virStreamRecv(stream, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
                        if n == -2 { return -2 }
                        if n < 0 { virResetLastError() }
                        return Int(n)
                    case .socket(let fd):
                        let n = read(fd, raw.baseAddress!, raw.count)
                        if n < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return -2 }
                        return n
                    }
                }
                if n == -2 { break }
                if n <= 0 { ended = true; break }
                continuation.yield(Array(buffer[0..<n]))
            }
        }
        if ended { close() }
    }

    /// What the event loop's registration holds: the pipe, weakly (the pipe's owner decides its life).
    private final class Reader: @unchecked Sendable {
        weak var pipe: ConsolePipe?
        init(_ pipe: ConsolePipe) { self.pipe = pipe }

        /// The registration's callback: the pipe has something to read.
        static func wake(_ opaque: UnsafeMutableRawPointer?) {
            guard let opaque else { return }
            Unmanaged<Reader>.fromOpaque(opaque).takeUnretainedValue().pipe?.readAvailable()
        }

        /// The registration's free callback, when libvirt drops it.
        static let release: @convention(c) (UnsafeMutableRawPointer?) -> Void = { opaque in
            guard let opaque else { return }
            Unmanaged<Reader>.fromOpaque(opaque).release()
        }
    }
}

/// `close(2)`, named apart from `ConsolePipe.close`.
private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
