#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GuesthouseConfig
@testable import GuesthouseSpool
import Libvirt
import Testing
import GuesthouseTestSupport

/// The running service: inotify makes it act at once (the rescan here is an hour away, so only
/// notifications can explain a prompt answer). Waits are bounded polls on the files it writes.
extension WirtTests {
    private func runningService(_ h: Harness) -> WirtSpoolService {
        let service = WirtSpoolService(spool: h.spool)
        service.start()
        return service
    }

    @Test func theServiceActsPromptlyOnFileNotifications() throws {
        let h = try Harness(members: 2) { $0.rescanSeconds = 3600 }
        let service = runningService(h)
        defer { service.stop() }
        let bob = h.users[1]
        // The first pass builds every member's tree and status.
        #expect(h.waitUntil(seconds: 10) { h.exists(h.status(h.alice)) && h.exists(h.status(bob)) })
        try h.send(h.alice, "start")
        #expect(h.waitUntil { h.read(h.vmLog(h.alice)).contains("box start ok: started") })
        #expect(try h.state("\(h.alice)-box") == .running)
        #expect(h.waitUntil { h.read(h.status(h.alice)).contains("<state>running</state>") })

        // A VM directory made after start-up is watched too (bob's first command lands in a new dir).
        try h.send(bob, "start")
        #expect(h.waitUntil { h.read(h.vmLog(bob)).contains("box start ok: started") })

        // A symlink (creation only, no close) is refused promptly too.
        #expect(symlink("/etc/passwd", "\(h.vmDir(h.alice))/config") == 0)
        #expect(h.waitUntil { h.read(h.vmLog(h.alice)).contains("config refused: not a regular file (symlink)") })
        #expect(!h.exists("\(h.vmDir(h.alice))/config"))
    }

    @Test func twoCommandsWrittenInOrderRunInThatOrder() throws {
        let h = try Harness { $0.rescanSeconds = 3600 }
        try h.mkdirs(h.vmDir(h.alice), owner: h.alice)
        let service = runningService(h)
        defer { service.stop() }
        #expect(h.waitUntil(seconds: 10) { h.exists(h.status(h.alice)) })
        for _ in 0..<5 {
            try h.send(h.alice, "start")
            try h.send(h.alice, "destroy")
        }
        // Commands may coalesce (a second start replaces an unread one), but the last written, destroy,
        // must run last: were it run before the start written just before it, the last line would be a start.
        #expect(h.waitUntil {
            let last = h.read(h.vmLog(h.alice)).split(separator: "\n").last ?? ""
            let left = (try? FileManager.default.contentsOfDirectory(atPath: h.vmDir(h.alice))) ?? ["?"]
            return last.contains("box destroy ok") && left.isEmpty
        }, "\(h.read(h.vmLog(h.alice)))")
        let lines = h.read(h.vmLog(h.alice)).split(separator: "\n")
        let logs = "vm log:\n\(h.read(h.vmLog(h.alice)))\nspool log:\n\(h.read(h.spoolLog(h.alice)))"
        #expect(lines.contains { $0.contains("box start ok") }, "\(logs)")
        #expect(try h.state("\(h.alice)-box") == .shutoff, "\(logs)")
        #expect(h.waitUntil { h.read(h.status(h.alice)).contains("<state>shutoff</state>") }, "\(logs)")
    }

    @Test func theRescanPicksUpWhatNotificationsMissed() throws {
        let h = try Harness { $0.rescanSeconds = 1 }
        // Files waiting before the service starts are handled by its first pass.
        try h.send(h.alice, "autostart")
        let service = runningService(h)
        defer { service.stop() }
        #expect(h.waitUntil { h.read(h.vmLog(h.alice)).contains("box autostart ok: autostart enabled") })
    }

    @Test func theBenchmarkMeasuresLatency() async throws {
        let (p50, p99) = try await WirtBenchmark.run(count: 20)
        #expect(p50 > 0 && p99 >= p50)
        #expect(p99 < 2000)
    }
}

/// The user's CLI, run as the user (runuser) against the running service.
extension WirtTests {
    static let binary: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/guesthouse").path
    }()

    /// Runs `binary` (a copy the user can reach: the checkout may sit under a 0700 home) as `user`.
    private func runAs(_ user: String, _ binary: ReachableBinary, _ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        p.arguments = ["-u", user, "--", binary.path] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: WirtTests.binary)
                   && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser")))
    func theCLIWritesCommandsAndShowsTheirResultForTheUser() throws {
        let h = try Harness { $0.rescanSeconds = 3600 }
        let service = WirtSpoolService(spool: h.spool)
        service.start()
        defer { service.stop() }
        #expect(h.waitUntil(seconds: 10) { h.exists(h.status(h.alice)) })
        let cli = try ReachableBinary(copying: Self.binary)
        defer { cli.remove() }
        #expect(!cli.path.hasPrefix(URL(fileURLWithPath: Self.binary).deletingLastPathComponent().path))
        let (rc, out) = try runAs(h.alice, cli, ["wirt", "start", "box"])
        #expect(rc == 0 && out.contains("box start ok: started"), "\(out)")
        #expect(try h.state("\(h.alice)-box") == .running)
        let (rc2, out2) = try runAs(h.alice, cli, ["wirt", "config", "box", "--memory", "99999999"])
        #expect(rc2 == 1 && out2.contains("refused: config: memory must be"), "\(out2)")
        let (rc3, out3) = try runAs(h.alice, cli, ["wirt", "status", "box"])
        #expect(rc3 == 0 && out3.contains("<state>running</state>"), "\(out3)")
        let (_, out4) = try runAs(h.alice, cli, ["wirt", "log", "box"])
        #expect(out4.contains("box start ok: started"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: WirtTests.binary)))
    func theCLICopyIsReachableByEveryoneAndRemovedAfterwards() throws {
        let cli = try ReachableBinary(copying: WirtTests.binary)
        var info = stat()
        #expect(stat(cli.directory, &info) == 0 && info.st_mode & 0o777 == 0o755)
        #expect(stat(cli.path, &info) == 0 && info.st_mode & 0o777 == 0o755)
        #expect(FileManager.default.contentsEqual(atPath: cli.path, andPath: WirtTests.binary))
        cli.remove()
        #expect(!FileManager.default.fileExists(atPath: cli.directory))
    }
}
