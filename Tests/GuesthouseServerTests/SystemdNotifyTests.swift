import Foundation
import GuesthouseServer
import HummingbirdBcrypt
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's notification socket.
final class NotifySocket {
    let path: String
    private let fd: Int32

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("gh-notify-\(UUID().uuidString.prefix(8))").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard fd >= 0, bound == 0 else { throw CommandFailure("cannot bind \(path): errno \(errno)") }
    }

    /// The next datagram, waiting at most `seconds` (a receive timeout, not a sleep); nil when none came.
    func receive(within seconds: Int) -> String? {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

@Suite struct SystemdNotifyTests {
    @Test func sendWritesOneDatagramAndNothingWithoutASocket() throws {
        let socket = try NotifySocket()
        #expect(SystemdNotify.send("READY=1", socketPath: socket.path))
        #expect(socket.receive(within: 5) == "READY=1")
        #expect(!SystemdNotify.send("READY=1", socketPath: nil))
        #expect(!SystemdNotify.send("READY=1", socketPath: ""))
    }

    /// `serve` under `Type=notify`: READY=1 arrives once the port answers, so systemd orders
    /// dependent units after a server that really listens.
    @Test func serveSaysReadyOnceItListens() throws {
        let socket = try NotifySocket()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gh-ready-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = Int.random(in: 20_000...29_999)
        let file = directory.appendingPathComponent("guesthouse.toml").path
        try "[server]\nlisten = \"127.0.0.1:\(port)\"\n[user.admin]\npassword = \"\(Bcrypt.hash("pw", cost: 4))\"\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: CommandResult.guesthouse)
        serve.arguments = ["serve", "--config", file]
        serve.environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": socket.path]) { _, new in new }
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        defer {
            serve.terminate()
            serve.waitUntilExit()
        }
        #expect(socket.receive(within: 60) == "READY=1")
        let health = try CommandResult.run("curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)/healthz"])
        #expect(health.status == 0 && health.stdout == "{\"status\":\"ok\"}", "\(health.stderr)")
    }
}
