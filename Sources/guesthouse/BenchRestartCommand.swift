import ArgumentParser
import AsyncHTTPClient
import Foundation
import GuesthouseBench

/// `guesthouse bench-restart`: restarts libvirtd while clients load the server with requests to
/// `qemu:///system`, and reports what they saw: answers by status, the slowest answer (nothing may
/// hang), and how soon after libvirtd was back the server answered 200 again. Root only; it stops
/// this machine's libvirtd for `--down` seconds, so run it alone.
struct BenchRestartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-restart", abstract: "Restart libvirtd under load and report how the server behaved.")

    @Option(help: "Concurrent clients.")
    var clients = 8

    @Option(help: "Seconds libvirtd stays down.")
    var down = 2.0

    @Option(help: "Loopback port for the server under test.")
    var port = 18_981

    func run() async throws {
        guard getuid() == 0 else { throw ValidationError("bench-restart restarts libvirtd: run it as root") }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("guesthouse-restart-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let child = try await BenchServer.start(port: port, directory: work, config: "")
        defer { child.stop() }
        let base = child.base

        let request: HTTPClientRequest = {
            var request = HTTPClientRequest(url: "\(base)/kvm/localhost/guests")
            request.headers.add(name: "x-simplestack-hypervisor-token", value: child.token)
            return request
        }()
        let clients = self.clients
        let samples = Samples()
        let stop = ContinuousClock.now + .seconds(down + 8)
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        while ContinuousClock.now < stop {
                            let t = ContinuousClock.now
                            let status = await BenchCommand.status(of: request)
                            samples.add(at: t, status: status, milliseconds: BenchCommand.milliseconds(ContinuousClock.now - t))
                        }
                    }
                }
            }
        }
        try await Task.sleep(for: .seconds(2))
        let stopped = ContinuousClock.now
        try await Self.stopLibvirtd()
        let gone = ContinuousClock.now
        try await Task.sleep(for: .seconds(down))
        let restarted = ContinuousClock.now
        try Self.startDaemon("/usr/sbin/libvirtd", ["-d"])
        await load.value

        let all = samples.all
        let counts = Dictionary(grouping: all, by: \.status).mapValues(\.count)
        let slowest = all.map(\.milliseconds).max() ?? 0
        let firstOK = all.filter { $0.at >= restarted && $0.status == 200 }.map(\.at).min()
        print(String(format: "libvirtd took %.0f ms to stop", BenchCommand.milliseconds(gone - stopped)))
        print("libvirtd stopped for \(down) s under \(clients) clients of GET /kvm/localhost/guests (qemu:///system)")
        for (status, count) in counts.sorted(by: { $0.key < $1.key }) {
            print("  \(status == -1 ? "no answer" : String(status)): \(count)")
        }
        print(String(format: "  slowest answer: %.1f ms", slowest))
        print("  502s while libvirtd was down: \(all.filter { $0.at >= stopped && $0.at < restarted && $0.status == 502 }.count)")
        if let firstOK {
            print(String(format: "  first 200 after libvirtd was started again: %.0f ms", BenchCommand.milliseconds(firstOK - restarted)))
        } else {
            print("  no 200 after libvirtd was started again")
        }
    }

    /// Sends libvirtd SIGTERM and waits until it is gone (its pid file names it).
    static func stopLibvirtd() async throws {
        guard let text = try? String(contentsOfFile: "/var/run/libvirtd.pid", encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, SIGTERM) == 0 else {
            throw ValidationError("libvirtd is not running (no /var/run/libvirtd.pid)")
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while kill(pid, 0) == 0 {
            guard ContinuousClock.now < deadline else { throw ValidationError("libvirtd (pid \(pid)) did not stop within 30 s") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Starts a daemon that forks (`-d`) with an empty signal mask and waits for its parent to return.
    static func startDaemon(_ tool: String, _ arguments: [String]) throws {
        let pid = try Daemon.spawn(tool, arguments)
        var exit: Int32 = 0
        waitpid(pid, &exit, 0)  // `-d`: the parent returns once the daemon has forked
    }

    /// Answers seen by the clients.
    final class Samples: @unchecked Sendable {
        struct Sample { var at: ContinuousClock.Instant; var status: Int; var milliseconds: Double }
        private let lock = NSLock()
        private var samples: [Sample] = []
        func add(at: ContinuousClock.Instant, status: Int, milliseconds: Double) {
            lock.withLock { samples.append(Sample(at: at, status: status, milliseconds: milliseconds)) }
        }
        var all: [Sample] { lock.withLock { samples } }
    }
}
