import ArgumentParser
import Foundation
import GuesthouseConfig
import GuesthouseLibvirt
import GuesthouseServer
import GuesthouseSpool
import GuesthouseVmango
import GuesthouseCore
import HummingbirdBcrypt
import HummingbirdTLS
import Libvirt
import Logging
import ServiceLifecycle

/// `guesthouse serve [--config FILE]`: runs every configured part; without a config, the embedded demo.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the server.")

    @Option(name: .shortAndLong, help: "TOML configuration file; without one, the embedded demo runs.")
    var config: String?

    @Option(help: "Override [server] listen, e.g. 127.0.0.1:8080.")
    var listen: String?

    func run() async throws {
        var logger = Logger(label: "guesthouse")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info
        var settings: Config
        if let config {
            do {
                settings = try Config.load(path: config)
            } catch let error as ConfigError {
                throw ValidationError(error.description)
            }
        } else {
            settings = try EmbeddedDemo.config()
        }
        if let listen {
            settings = try Config.parse("[server]\nlisten = \"\(listen)\"", file: "--listen").merging(server: settings)
        }
        let tls: TLSConfiguration?
        do {
            tls = try ServerTLS.configuration(for: settings.server, file: config ?? "embedded demo")
        } catch let error as ConfigError {
            throw ValidationError(error.description)
        }
        for deprecation in settings.server.deprecations { logger.warning("\(deprecation)") }
        // libvirt's event loop (keepalive, close callbacks, the events that keep the hosts' views):
        // made here, run first in the service group and stopped last.
        let eventLoop = LibvirtEventLoop()
        // One Prometheus registry, injected into every part that records (no global bootstrap).
        let metrics = ServerMetrics()
        let executor = LibvirtExecutor(threads: 16)
        // One executor, one deadline watch and one set of per-domain locks for every interface.
        let pool = ConnectionPool(executor: executor, deadlines: DeadlineWatch(), locks: LibvirtLocks(),
                                  connectTimeout: settings.server.connectTimeoutSeconds,
                                  logger: logger, metrics: metrics.factory,
                                  downloadHelper: VolumeDownloadHelper.currentExecutable())
        metrics.addCollector { pool.collectMetrics($0) }
        let directory = LibvirtDirectory(config: settings, pool: pool, executor: executor)
        let baseDirectory = config.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }
            ?? FileManager.default.currentDirectoryPath
        let machines: LibvirtMachineProviders
        do {
            machines = try LibvirtMachineProviders(config: settings, pool: pool, executor: executor, logger: logger,
                                                   baseDirectory: baseDirectory)
        } catch let error as GuesthouseError {
            throw ValidationError(error.message)
        }
        if config == nil {
            EmbeddedDemo.printWelcome(settings)
        }
        if config != nil { await Self.reapplyVLANNetworks(directory, logger: logger) }
        let containers = await Self.containerParts(settings, pool: pool, executor: executor, logger: logger)
        let audit: AuditLog
        do {
            audit = try AuditLog(path: settings.server.auditLog, logger: logger)
        } catch let error as GuesthouseError {
            throw ValidationError(error.message)
        }
        let app = try buildApplication(config: settings, directory: directory, logger: logger, machines: machines,
                                       containers: containers, metrics: metrics, tls: tls, audit: audit)
        var services: [any Service] = [eventLoop, app]
        if let (host, port) = settings.server.metricsListen {
            services.append(buildMetricsApplication(host: host, port: port, metrics: metrics, logger: logger))
        }
        if settings.wirt != nil, let config {
            // `[wirt]` configured: the spool runs beside the HTTP server in one service group.
            let (wirt, uri) = try SpoolCommand.wirtSettings(settings, file: config)
            guard getuid() == 0 else { throw ValidationError("[wirt] needs the server to run as root") }
            let guests = LibvirtWirtGuests(pool: pool, executor: executor, uri: uri)
            services.append(WirtSpoolService(spool: WirtSpool(config: wirt, guests: guests, logger: logger,
                                                              audit: audit.wirtRecorder),
                                             logger: logger, metrics: metrics.factory))
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

extension Config {
    /// This config's `[server]` listen address with everything else from `other`.
    func merging(server other: Config) -> Config {
        var merged = other
        merged.server.host = server.host
        merged.server.port = server.port
        return merged
    }
}

/// The embedded default: the test driver with a demo node, one user with a fresh password.
enum EmbeddedDemo {
    static let password: String = {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        return String((0..<12).map { _ in alphabet.randomElement()! })
    }()

    static func config() throws -> Config {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("guesthouse-demo-\(getpid())")
        let uri = try EmbeddedDefault.write(to: directory)
        var config = Config()
        var local = HypervisorConfig(name: "LOCAL1", url: uri)
        local.imageStoragePool = "images"
        local.rootStoragePool = "default"
        local.network = "guesthouse"
        config.hypervisors["LOCAL1"] = local
        var test = FamilyConfig()
        test.localURI = uri
        config.families["test"] = test
        config.plans["small"] = PlanConfig(name: "small", memoryMiB: 512, cpus: 1, diskSizeGiB: 5)
        config.plans["medium"] = PlanConfig(name: "medium", memoryMiB: 2048, cpus: 2, diskSizeGiB: 20)
        config.sshKeys["demo"] = SSHKeyConfig(name: "demo", publicKey: EmbeddedDefault.demoKey.publicKey)
        // A fresh secret per run: demo sessions end with the process.
        config.server.sessionSecret = UUID().uuidString + UUID().uuidString
        config.users["admin"] = UserConfig(name: "admin", passwordHash: Bcrypt.hash(password, cost: 10))
        return config
    }

    static func printWelcome(_ config: Config) {
        let base = "http://\(config.server.host):\(config.server.port)"
        let token = Data("admin:\(password)".utf8).base64EncodedString()
        // Written unbuffered, so it shows at once even when stdout is a pipe.
        FileHandle.standardOutput.write(Data("""
        Guesthouse is running on its embedded demo (libvirt's test driver, nothing real is touched).
          Log in as:  admin / \(password)
          Try:        curl -H 'x-simplestack-hypervisor-token: \(token)' \(base)/test/localhost/guests
          Web UI:     \(base)/  (machines created there live in the test driver's memory)
          API:        \(base)/openapi.json

        """.utf8))
    }
}
