import Foundation
import Libvirt

/// Where volume downloads run: a helper process (`executable volume-download ...`) per download,
/// read through a pipe, so that a slow reader holds back libvirtd instead of filling this
/// process's memory (see `VolumeDownloadChild`). Given to the `ConnectionPool`; without one,
/// downloads run in this process.
public struct VolumeDownloadHelper: Sendable {
    /// The `guesthouse` executable.
    public let executable: String

    public init(executable: String) {
        self.executable = executable
    }

    /// The helper for the running `guesthouse` executable itself.
    public static func currentExecutable() -> VolumeDownloadHelper? {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
              FileManager.default.isExecutableFile(atPath: path) else { return nil }
        return VolumeDownloadHelper(executable: path)
    }

    /// The subcommand the helper runs.
    public static let subcommand = "volume-download"

    /// Whether downloads from `uri` go through the helper: not for `test:` URIs, whose state lives
    /// in this process's connection only.
    func serves(uri: String) -> Bool { !uri.hasPrefix("test:") }

    /// What the helper reads on its standard input: the connection's credentials, if any.
    public struct Input: Codable, Sendable {
        public var username: String?
        public var password: String?

        public init(credentials: LibvirtCredentials?) {
            username = credentials?.username
            password = credentials?.password
        }

        public var credentials: LibvirtCredentials? {
            guard let username, let password else { return nil }
            return LibvirtCredentials(username: username, password: password)
        }
    }
}

/// One running helper process and the read end of its output. Every method blocks: call them on
/// the libvirt executor.
final class VolumeDownloadProcess: @unchecked Sendable {
    private let process = Process()
    private let output: FileHandle

    /// Starts the helper for `pool`/`volume` on `uri`; credentials go through its standard input,
    /// never its arguments.
    init(_ helper: VolumeDownloadHelper, uri: String, credentials: LibvirtCredentials?, pool: String, volume: String) throws {
        process.executableURL = URL(fileURLWithPath: helper.executable)
        process.arguments = [VolumeDownloadHelper.subcommand, "--uri", uri, "--pool", pool, "--volume", volume]
        let input = Pipe()
        let out = Pipe()
        process.standardInput = input
        process.standardOutput = out
        output = out.fileHandleForReading
        // A bigger pipe: fewer wake-ups per MiB (up to /proc/sys/fs/pipe-max-size; ignored if refused).
        _ = fcntl(output.fileDescriptor, Self.setPipeSize, Int32(VolumeDownloadChild.frameData))
        // Written before the start, into the pipe's buffer: a helper that dies at once cannot
        // make this write fail (or raise SIGPIPE here).
        let payload = try JSONEncoder().encode(VolumeDownloadHelper.Input(credentials: credentials))
        try input.fileHandleForWriting.write(contentsOf: payload)
        try input.fileHandleForWriting.close()
        try process.run()  // (closes this process's copies of the child's pipe ends)
    }

    /// Linux's F_SETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 7), which Glibc's module map hides.
    private static let setPipeSize: Int32 = 1031

    /// The next frame; throws when the output ends before an `end` or `failure` frame.
    func next() throws -> VolumeDownloadFrame {
        let fd = output.fileDescriptor
        return try VolumeDownloadFrame.read { raw in
            var offset = 0
            while offset < raw.count {
                let n = read(fd, raw.baseAddress!.advanced(by: offset), raw.count - offset)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw Ended() }
                offset += n
            }
        }
    }

    /// The helper's exit status, once it exited.
    func wait() -> Int32 {
        process.waitUntilExit()
        try? output.close()
        return process.terminationStatus
    }

    /// Stops the helper at once; its libvirt connection closes, so libvirtd aborts the stream.
    func kill() {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        _ = wait()
    }

    /// The helper's output ended without an end or failure frame (it died).
    struct Ended: Error {}
}
