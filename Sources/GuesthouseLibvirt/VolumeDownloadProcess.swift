import Foundation
import Libvirt

/// One running helper process and the read end of its output, read ahead by a thread of its own
/// (`VolumeDownloadReadAhead`). `wait` and `kill` block: call them on the libvirt executor.
///
/// Started with `posix_spawn`: only its stdin (the credentials), stdout (the frames) and stderr
/// (the server's) reach it (every other descriptor of the server, sockets included, is closed in
/// the child), with an empty signal mask and default signal handlers.
final class VolumeDownloadProcess: @unchecked Sendable {
    private let pid: pid_t
    private let frames: VolumeDownloadReadAhead
    private var status: Int32?

    /// Bytes of frame data read ahead of the consumer (4 MiB raised the server's RSS peak by 20 MiB).
    static let readAhead = 2 << 20

    /// Starts the helper for `pool`/`volume` on `uri`; credentials go through its standard input,
    /// never its arguments.
    init(_ helper: VolumeDownloadHelper, uri: String, credentials: LibvirtCredentials?, pool: String, volume: String) throws {
        var input: [Int32] = [-1, -1]
        var out: [Int32] = [-1, -1]
        guard GNU.pipe(&input) == 0 else { throw SpawnError(errno: errno) }
        guard GNU.pipe(&out) == 0 else {
            let error = SpawnError(errno: errno)
            close(input[0]); close(input[1])
            throw error
        }
        // Written before the start, into the pipe's buffer: a helper that dies at once cannot
        // make this write fail (or raise SIGPIPE here).
        let payload = try JSONEncoder().encode(VolumeDownloadHelper.Input(credentials: credentials))
        let written = payload.withUnsafeBytes { write(input[1], $0.baseAddress, $0.count) }
        close(input[1])
        // A bigger pipe: fewer wake-ups per MiB (up to /proc/sys/fs/pipe-max-size; ignored if refused).
        _ = fcntl(out[0], Self.setPipeSize, Int32(1 << 20))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        GNU.closeFrom3(&actions)
        let arguments = [helper.executable, VolumeDownloadHelper.subcommand, "--uri", uri, "--pool", pool, "--volume", volume]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = CleanSpawn.withAttributes { posix_spawn(&pid, helper.executable, &actions, &$0, argv, environ) }
        close(input[0])
        close(out[1])
        guard spawned == 0, written == payload.count else {
            close(out[0])
            if spawned == 0 { Glibc.kill(pid, SIGKILL); var status: Int32 = 0; waitpid(pid, &status, 0) }
            throw SpawnError(errno: spawned == 0 ? EPIPE : spawned)
        }
        self.pid = pid
        frames = VolumeDownloadReadAhead(capacity: Self.readAhead)
        // The reading thread owns the pipe's read end: it closes it when it stops (an end or
        // failure frame, the helper gone, or `kill`).
        let fd = out[0]
        frames.start(reading: { try Self.frame(from: fd) }, done: { close(fd) })
    }

    /// Linux's F_SETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 7), which Glibc's module map hides.
    private static let setPipeSize: Int32 = 1031

    /// The next frame; throws when the output ends before an `end` or `failure` frame.
    func next() async throws -> VolumeDownloadFrame {
        try await frames.next()
    }

    /// Reads one frame from `fd` (blocking).
    private static func frame(from fd: Int32) throws -> VolumeDownloadFrame {
        try VolumeDownloadFrame.read { raw in
            var offset = 0
            while offset < raw.count {
                let n = read(fd, raw.baseAddress!.advanced(by: offset), raw.count - offset)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw Ended() }
                offset += n
            }
        }
    }

    /// The helper's exit status (128 + the signal when one ended it), once it exited.
    func wait() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let signal = raw & 0x7f
        let result = signal == 0 ? (raw >> 8) & 0xff : 128 + signal
        status = result
        return result
    }

    /// Stops the helper at once; its libvirt connection closes, so libvirtd aborts the stream.
    func kill() {
        if status == nil { Glibc.kill(pid, SIGKILL) }
        frames.cancel()
        _ = wait()
    }

    /// The helper's output ended without an end or failure frame (it died).
    struct Ended: Error {}

    struct SpawnError: Error, CustomStringConvertible {
        let errno: Int32
        var description: String { String(cString: strerror(errno)) }
    }
}

/// glibc functions Swift's Glibc module hides (they need _GNU_SOURCE), looked up at run time.
private enum GNU {
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let pipe2: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }
    private static let addCloseFrom: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }

    /// A pipe whose ends close on exec (`pipe2(O_CLOEXEC)`, else `pipe` + `FD_CLOEXEC`).
    static func pipe(_ fds: inout [Int32]) -> Int32 {
        if let pipe2 { return fds.withUnsafeMutableBufferPointer { pipe2($0.baseAddress!, O_CLOEXEC) } }
        guard Glibc.pipe(&fds) == 0 else { return -1 }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return 0
    }

    /// Closes every descriptor from 3 up in the child (glibc >= 2.34; else each one open now).
    static func closeFrom3(_ actions: inout posix_spawn_file_actions_t) {
        if let addCloseFrom, addCloseFrom(&actions, 3) == 0 { return }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(entry), fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
    }
}
