import ArgumentParser
import Foundation
import GuesthouseConfig
import GuesthouseLibvirt
import GuesthouseSpool
import Libvirt
import Logging
import ServiceLifecycle
import GuesthouseBench

/// `guesthouse spool --config FILE`: runs the wirt spool alone (as root).
struct SpoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool", abstract: "Run the wirt spool alone: members of [wirt] group control their guests with files.")

    @Option(name: .shortAndLong, help: "TOML configuration file with [wirt] and its [hypervisor.*].")
    var config: String

    func run() async throws {
        var logger = Logger(label: "guesthouse.wirt")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        let settings: Config
        do {
            settings = try Config.load(path: config)
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
        guard getuid() == 0 else { throw ValidationError("the spool must run as root (it reads users' homes)") }
        let (wirt, uri) = try Self.wirtSettings(settings, file: config)
        Libvirt.initialize()
        let executor = LibvirtExecutor(threads: 4)
        let pool = ConnectionPool(executor: executor, deadlines: DeadlineWatch(), locks: LibvirtLocks(),
                                  connectTimeout: settings.server.connectTimeoutSeconds, logger: logger)
        let service = WirtSpoolService(config: wirt, guests: LibvirtWirtGuests(pool: pool, executor: executor, uri: uri),
                                       logger: logger)
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// `[wirt]` (defaults when absent) and the URI of its provider.
    static func wirtSettings(_ settings: Config, file: String) throws -> (WirtConfig, String) {
        let wirt = settings.wirt ?? WirtConfig()
        if let provider = wirt.provider {
            guard let h = settings.hypervisors[provider] else { throw ValidationError("\(file): wirt.provider: no [hypervisor.\(provider)]") }
            return (wirt, h.url)
        }
        guard settings.hypervisors.count == 1, let only = settings.hypervisors.values.first else {
            throw ValidationError("\(file): wirt.provider: name the [hypervisor.*] the users' guests live on")
        }
        return (wirt, only.url)
    }
}

/// `guesthouse wirt ACTION VM`: the user's CLI. Writes the command file and waits for its result.
struct WirtCLICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wirt", abstract: "Control your own guests (<you>-<vm>) through the wirt spool.",
        discussion: """
        Actions: start, stop (graceful), destroy (force off), autostart [--disable], \
        config [--memory MiB] [--cpus N], status, log.
        """)

    enum Action: String, ExpressibleByArgument, CaseIterable {
        case start, stop, destroy, autostart, config, status, log
    }

    @Argument(help: "start | stop | destroy | autostart | config | status | log")
    var action: Action

    @Argument(help: "The VM's name (your guest <user>-<vm>).")
    var vm: String

    @Flag(help: "With autostart: turn it off.")
    var disable = false

    @Option(help: "With config: memory in MiB.")
    var memory: Int?

    @Option(help: "With config: number of vCPUs.")
    var cpus: Int?

    @Option(help: "Seconds to wait for the spool's answer.")
    var timeout: Double = 10

    @Option(help: "Lines of log to show.")
    var lines = 20

    @Option(help: "Home directory (default: yours).")
    var home: String?

    func run() throws {
        let client = WirtClient(home: home ?? WirtClient.currentHome())
        switch action {
        case .status:
            guard let status = client.status(vm: vm) else {
                throw ValidationError("no status for \(vm) yet (is there a guest <you>-\(vm)? is the spool running?)")
            }
            print(status, terminator: "")
            return
        case .log:
            client.log(vm: vm, count: lines).forEach { print($0) }
            return
        default:
            break
        }
        var content = ""
        if action == .autostart && disable { content = "--disable" }
        if action == .config {
            var parts: [String] = []
            if let memory { parts.append("\"memory\": \(memory)") }
            if let cpus { parts.append("\"cpus\": \(cpus)") }
            guard !parts.isEmpty else { throw ValidationError("config needs --memory and/or --cpus") }
            content = "{" + parts.joined(separator: ", ") + "}"
        }
        let mark = client.mark(vm: vm)
        do {
            try client.send(vm: vm, command: action.rawValue, content: content)
        } catch {
            throw ValidationError("\(error)")
        }
        guard let line = client.waitForResult(vm: vm, command: action.rawValue, after: mark, timeout: timeout) else {
            print("\(action.rawValue) \(vm): queued; no answer within \(Int(timeout)) s (is the spool running?)")
            throw ExitCode(2)
        }
        print(line)
        if line.contains(" refused: ") || line.contains(" error: ") { throw ExitCode(1) }
    }
}

/// `guesthouse bench-wirt`: the wirt latency figure (needs root: it makes a scratch user).
struct BenchWirtCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-wirt", abstract: "Measure wirt command-file -> acted-on latency (p50/p99).")

    @Option(help: "Number of commands.")
    var count = 200

    func run() async throws {
        let (p50, p99) = try await WirtBenchmark.run(count: count)
        print(String(format: "wirt command file -> acted on, %d commands: p50 %.2f ms, p99 %.2f ms", count, p50, p99))
    }
}
