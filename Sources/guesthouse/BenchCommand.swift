import ArgumentParser
import AsyncHTTPClient
import Foundation
import GuesthouseCore
import GuesthouseLibvirt
import HummingbirdBcrypt
import Libvirt
import GuesthouseBench

/// `guesthouse bench`: libvirt's floor through the binding, then the server over loopback HTTP
/// (a child `guesthouse serve`, loaded by wrk with many connections), side by side, with ratios.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure the binding's floor and the server over loopback HTTP.")

    @Option(help: "Guests in the test-driver node (the list benchmark lists them all).")
    var guests = 1000

    @Option(help: "Seconds per measurement.")
    var seconds = 5

    @Option(help: "Concurrent HTTP connections.")
    var connections = 64

    @Option(help: "Loopback port for the server under test (and the next one for the qemu part).")
    var port = 18_980

    @Option(help: "Inactive domains defined on qemu:///system for the list comparison there (0: skip it).")
    var qemuGuests = 1000

    @Flag(help: "Only measure guest info during a wrong-password flood from another client address, against without.")
    var loginFlood = false

    func run() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("guesthouse-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: work) }
        let uri = try EmbeddedDefault.write(to: work, extraGuests: guests - 3)
        let guestID = "6f1e8f2a-0000-4000-8000-000000000000"
        if loginFlood { return try await floodBench(uri: uri, guestID: guestID, work: work) }
        print("Guesthouse benchmark: \(guests) guests on libvirt's test driver, \(seconds) s per figure, "
              + "\(ProcessInfo.processInfo.activeProcessorCount) cores\n")

        // The floor: libvirt's own calls in-process, no HTTP, no view: a lookup, state and XML for
        // one guest; the list of all domains and the XML of each.
        Libvirt.initialize()
        let executor = LibvirtExecutor(threads: 4)
        let conn = try Connection(uri: uri)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let floorInfo = try await Self.inProcess(seconds: seconds, concurrency: cores) {
            try await executor.run {
                let domain = try conn.domain(uuid: guestID)
                _ = try domain.state()
                _ = try domain.xml()
            }
        }
        let floorList = try await Self.inProcess(seconds: seconds, concurrency: cores) {
            try await executor.run {
                let all = try conn.allDomains()
                for domain in all { _ = try domain.xml() }
                precondition(all.count == guests)
            }
        }
        print(Self.row("binding: guest info", floorInfo))
        print(Self.row("binding: list \(guests) guests", floorList))

        // The server, as its own process, under wrk.
        let child = try await BenchServer.start(port: port, directory: work, config: """
            [family.test]
            local_uri = "\(uri)"
            """)
        let server = child.process
        defer { child.stop() }
        let base = child.base
        let idleRSS = Self.rssMiB(pid: server.processIdentifier)
        let header = "x-simplestack-hypervisor-token: \(child.token)"
        // One list first: the connection opens, the in-process test driver reads its 1,000 guests
        // and the view is built; what the load adds comes after.
        _ = try Wrk.run(url: "\(base)/test/localhost/guests", header: header, seconds: 1, connections: 2)
        let loadedRSS = Self.rssMiB(pid: server.processIdentifier)
        // /healthz and guest info alternately, three rounds each: on a shared machine a burst of other
        // work lands in one figure and not in the other; the median round and ratio are reported.
        // The server's own CPU per request is counted too (from /proc): on a machine shared with
        // other work it moves far less than the rates do.
        var healthRounds: [Figures] = [], infoRounds: [Figures] = []
        var healthCPU: [Double] = [], infoCPU: [Double] = []
        for _ in 0..<3 {
            let cpu0 = Self.cpuSeconds(pid: server.processIdentifier)
            healthRounds.append(try Wrk.run(url: "\(base)/healthz", seconds: seconds, connections: connections))
            let cpu1 = Self.cpuSeconds(pid: server.processIdentifier)
            infoRounds.append(try Wrk.run(url: "\(base)/test/localhost/guests/\(guestID)", header: header,
                                          seconds: seconds, connections: connections))
            let cpu2 = Self.cpuSeconds(pid: server.processIdentifier)
            healthCPU.append((cpu1 - cpu0) * 1e6 / Double(max(healthRounds.last!.requests, 1)))
            infoCPU.append((cpu2 - cpu1) * 1e6 / Double(max(infoRounds.last!.requests, 1)))
        }
        let health = healthRounds.sorted { $0.rate < $1.rate }[1]
        let info = infoRounds.sorted { $0.rate < $1.rate }[1]
        let infoRatios = zip(infoRounds, healthRounds).map { $0.rate / $1.rate }
        let infoRatio = infoRatios.sorted()[1]
        let roundErrors = (healthRounds + infoRounds).map(\.errors).reduce(0, +)
        // The same, each request for one of all the guests (wrk's Lua picks one at random).
        let spread = work.appendingPathComponent("spread.lua")
        try """
        math.randomseed(42)
        request = function()
          local i = math.random(0, \(guests - 4))
          return wrk.format("GET", string.format("/test/localhost/guests/6f1e8f2a-0000-4000-8000-%012x", 1000 + i))
        end
        """.write(to: spread, atomically: true, encoding: .utf8)
        let infoSpread = try Wrk.run(url: base, header: header, seconds: seconds, connections: connections,
                                     script: spread)
        let list = try Wrk.run(url: "\(base)/test/localhost/guests", header: header, seconds: seconds,
                               connections: min(connections, 16))
        let rss = Self.rssMiB(pid: server.processIdentifier)
        let anon = Self.rssMiB(pid: server.processIdentifier, field: "RssAnon:")
        let file = Self.rssMiB(pid: server.processIdentifier, field: "RssFile:")
        for (round, (h, i)) in zip(healthRounds, infoRounds).enumerated() {
            print(Self.row("http: /healthz (round \(round + 1))", h) + String(format: "   server CPU %.1f us/req", healthCPU[round]))
            print(Self.row("http: guest info (round \(round + 1))", i) + String(format: "   server CPU %.1f us/req", infoCPU[round]))
        }
        print(Self.row("http: info, any of \(guests)", infoSpread))
        print(Self.row("http: list \(guests) guests", list))
        print(String(format: "server RSS after load: %.1f MiB (target < 50); before load %.1f MiB, "
                     + "which includes the in-process test driver holding the %d guests", rss, idleRSS, guests))
        print(String(format: "  of which private (anonymous) %.1f MiB, mapped files (code of the binary and its "
                     + "libraries, shared and reclaimable) %.1f MiB", anon, file))
        let pid = server.processIdentifier
        print(String(format: "  after the first list %.1f MiB (+%.1f: the test driver's guests in-process and the view); "
                     + "PSS after load %.1f MiB; mapped files only this process maps %.1f MiB, shared with others %.1f MiB",
                     loadedRSS, loadedRSS - idleRSS, Self.rssMiB(pid: pid, field: "Pss:", file: "smaps_rollup"),
                     Self.rssMiB(pid: pid, field: "Private_Clean:", file: "smaps_rollup"),
                     Self.rssMiB(pid: pid, field: "Shared_Clean:", file: "smaps_rollup")))
        print("")
        child.stop()
        var qemu: BenchQemuList.Result?
        if qemuGuests > 0 {
            qemu = try await BenchQemuList.run(count: qemuGuests, seconds: seconds, connections: connections,
                                               port: port, work: work)
            if let qemu {
                print(Self.row("qemu: libvirt list + XML", qemu.floor))
                print(Self.row("qemu: http list", qemu.http))
            }
        }
        print("")
        let errors = roundErrors + [infoSpread, list].map(\.errors).reduce(0, +) + (qemu?.http.errors ?? 0)
        print(String(format: "guest info over HTTP / healthz:                 %.2f (target >= 0.8; median of the rounds' ",
                     infoRatio) + infoRatios.map { String(format: "%.2f", $0) }.joined(separator: ", ") + ")")
        let cpuRatios = zip(healthCPU, infoCPU).map { $0 / max($1, 0.001) }
        print(String(format: "server CPU per request, healthz / guest info:   %.2f (median of the rounds' ", cpuRatios.sorted()[1])
              + cpuRatios.map { String(format: "%.2f", $0) }.joined(separator: ", ") + "; what the rate ratio tends to when the server's CPU limits both)")
        print(String(format: "info on any of \(guests) guests / healthz:       %.2f", infoSpread.rate / health.rate))
        print(String(format: "guest list over HTTP / libvirt list + XML:      %.2f (target >= 1.0, test driver)",
                     list.rate / floorList.rate))
        if let qemu {
            print(String(format: "qemu:///system list over HTTP / list + XML:     %.2f (target >= 10)",
                         qemu.http.rate / qemu.floor.rate))
        }
        print(String(format: "guest info over HTTP / libvirt lookup + XML:    %.2f", info.rate / floorInfo.rate))
        print(String(format: "RSS after load:                                 %.1f MiB (target < 50)", rss))
        print("errors: \(errors) (target 0)")
    }

    /// Guest info throughput alone, then while another wrk floods wrong passwords "from" another
    /// client (loopback is a trusted proxy here, the flood names its client in X-Forwarded-For), for
    /// another user name (one it floods is refused for everyone until the window ends, by design).
    func floodBench(uri: String, guestID: String, work: URL) async throws {
        let child = try await BenchServer.start(port: port, directory: work, config: """
            [family.test]
            local_uri = "\(uri)"
            """, server: "trusted_proxies = [\"127.0.0.1\"]")
        defer { child.stop() }
        let url = "\(child.base)/test/localhost/guests/\(guestID)"
        let header = "x-simplestack-hypervisor-token: \(child.token)"
        let alone = try Wrk.run(url: url, header: header, seconds: seconds, connections: connections)
        let flood = Process()
        flood.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        let wrong = Data("intruder:wrong-password".utf8).base64EncodedString()
        flood.arguments = ["-t", "1", "-c", "16", "-d", "\(seconds + 2)s", "-H", "x-simplestack-hypervisor-token: \(wrong)",
                           "-H", "X-Forwarded-For: 198.51.100.7", url]
        let floodOutput = Pipe()
        flood.standardOutput = floodOutput
        try flood.run()
        try await Task.sleep(for: .seconds(1))
        let during = try Wrk.run(url: url, header: header, seconds: seconds, connections: connections)
        let floodText = String(decoding: floodOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        flood.waitUntilExit()
        let floodFigures = Wrk.parse(floodText)
        print(Self.row("http: guest info", alone))
        print(Self.row("http: info during a flood", during))
        print(Self.row("flood (wrong passwords)", floodFigures) + " (429s and 401s)")
        print(String(format: "guest info during the flood / without:  %.2f (target >= 0.9)", during.rate / max(alone.rate, 1)))
    }

    struct Figures {
        var rate: Double
        var p50: Double
        var p99: Double
        var errors: Int
        /// How many requests were answered (wrk's count); 0 where not counted.
        var requests = 0
    }

    /// The CPU time (user + system) process `pid` has used so far, from /proc/PID/stat.
    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return 0 }
        // After "pid (comm)": state is field 3, utime 14 and stime 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func row(_ name: String, _ f: Figures) -> String {
        name.padding(toLength: 30, withPad: " ", startingAt: 0)
            + String(format: "%10.0f req/s   p50 %8.2f ms   p99 %8.2f ms   errors %d", f.rate, f.p50, f.p99, f.errors)
    }

    /// Calls `body` from `concurrency` tasks for `seconds`, recording each call's latency.
    static func inProcess(seconds: Int, concurrency: Int, _ body: @escaping @Sendable () async throws -> Void)
        async throws -> Figures {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var samples: [Double] = []
                    while ContinuousClock.now < deadline {
                        let t = ContinuousClock.now
                        try await body()
                        samples.append(Self.milliseconds(ContinuousClock.now - t))
                    }
                    return samples
                }
            }
            var all: [Double] = []
            for try await samples in group { all += samples }
            return all.sorted()
        }
        let elapsed = milliseconds(ContinuousClock.now - started) / 1000
        return Figures(rate: Double(latencies.count) / elapsed, p50: percentile(latencies, 0.5),
                       p99: percentile(latencies, 0.99), errors: 0)
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    /// The status of one request's answer (its body read and dropped), -1 when there was none.
    static func status(of request: HTTPClientRequest, timeout: Duration = .seconds(30)) async -> Int {
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .init(timeout)) else { return -1 }
        guard (try? await response.body.collect(upTo: 64 << 20)) != nil else { return -1 }
        return Int(response.status.code)
    }

    static func waitForHealth(_ base: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if await status(of: HTTPClientRequest(url: "\(base)/healthz")) == 200 { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("the server did not come up at \(base)")
    }

    static func rssMiB(pid: Int32, field: String = "VmRSS:", file: String = "status") -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
              let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
        return kib / 1024
    }
}

/// A `guesthouse serve` child for the benchmarks: user `bench` with a fresh password, on loopback.
struct BenchServer {
    let process: Process
    let base: String
    /// The Simplestack token of user `bench`.
    let token: String

    /// Starts the server with `config` added to its configuration and waits until it answers.
    static func start(port: Int, directory: URL, config: String, server: String = "") async throws -> BenchServer {
        let password = "bench-\(UUID().uuidString.prefix(8))"
        let file = directory.appendingPathComponent("bench-\(port).toml")
        try """
        [server]
        listen = "127.0.0.1:\(port)"
        connect_timeout = 2
        \(server)
        [user.bench]
        password = "\(Bcrypt.hash(password, cost: 10))"
        \(config)
        """.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        process.arguments = ["serve", "--config", file.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let server = BenchServer(process: process, base: "http://127.0.0.1:\(port)",
                                 token: Data("bench:\(password)".utf8).base64EncodedString())
        do {
            try await BenchCommand.waitForHealth(server.base)
        } catch {
            server.stop()
            throw error
        }
        return server
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}

/// Runs wrk (Debian's package) and reads its figures.
enum Wrk {
    static func run(url: String, header: String? = nil, seconds: Int, connections: Int,
                    script: URL? = nil) throws -> BenchCommand.Figures {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        var arguments = ["-t", "2", "-c", String(connections), "-d", "\(seconds)s", "--latency"]
        if let header { arguments += ["-H", header] }
        if let script { arguments += ["-s", script.path] }
        process.arguments = arguments + [url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return parse(output)
    }

    static func parse(_ output: String) -> BenchCommand.Figures {
        var figures = BenchCommand.Figures(rate: 0, p50: 0, p99: 0, errors: 0)
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("Requests/sec:"), let v = parts.last.flatMap({ Double($0) }) { figures.rate = v }
            if parts.count > 2, parts[1] == "requests", parts[2] == "in", let v = Int(parts[0]) { figures.requests = v }
            if line.hasPrefix("50%"), let v = parts.last { figures.p50 = milliseconds(String(v)) }
            if line.hasPrefix("99%"), let v = parts.last { figures.p99 = milliseconds(String(v)) }
            if line.hasPrefix("Non-2xx"), let v = parts.last.flatMap({ Int($0) }) { figures.errors += v }
            if line.hasPrefix("Socket errors:") {
                figures.errors += parts.compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }.reduce(0, +)
            }
        }
        return figures
    }

    /// wrk prints latencies like "1.23ms", "850.00us", "1.02s".
    static func milliseconds(_ text: String) -> Double {
        if text.hasSuffix("ms") { return Double(text.dropLast(2)) ?? 0 }
        if text.hasSuffix("us") { return (Double(text.dropLast(2)) ?? 0) / 1000 }
        if text.hasSuffix("s") { return (Double(text.dropLast(1)) ?? 0) * 1000 }
        return Double(text) ?? 0
    }
}
