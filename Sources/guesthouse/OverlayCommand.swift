import ArgumentParser
import Foundation
import GuesthouseConfig
import GuesthouseOverlay
import GuesthouseServer

/// `guesthouse overlay up|down|status --config F`: this server's VXLAN overlay from `[overlay]`.
struct OverlayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overlay", abstract: "Set up, check or remove this server's VXLAN overlay ([overlay]).",
        subcommands: [Up.self, Down.self, Status.self])

    struct Options: ParsableArguments {
        @Option(name: .shortAndLong, help: "TOML configuration file with an [overlay] section.")
        var config: String

        @Option(help: ArgumentHelp("Work inside this network namespace (a simulated server).", visibility: .hidden))
        var netns: String?

        @Flag(help: "Print the status as JSON.")
        var json = false

        func manager() throws -> OverlayManager {
            guard let overlay = try settings().overlay else { throw ValidationError("\(config) has no [overlay] section") }
            return OverlayManager(config: overlay, namespace: netns)
        }

        func settings() throws -> Config {
            do {
                return try Config.load(path: config)
            } catch let error as ConfigError {
                throw ValidationError(error.description)
            }
        }

        /// Runs a change to the host, with a `cli` line in the audit log.
        func audited<T>(_ action: String, _ body: () throws -> T) async throws -> T {
            let audit = try CLIAudit(config: try settings())
            return try await audit.recording(action: action, target: netns.map { ["netns": $0] } ?? [:]) { try body() }
        }

        func print(_ status: [SegmentStatus]) throws {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                Swift.print(String(decoding: try encoder.encode(status), as: UTF8.self))
                return
            }
            for s in status {
                Swift.print("vni \(s.vni): \(s.device) \(s.deviceUp ? "up" : "down") -> \(s.bridge) "
                            + "\(s.bridgeUp ? "up" : "down") mtu \(s.mtu.map(String.init) ?? "-") "
                            + "addr \(s.addresses.joined(separator: ",")) flood \(s.flood.joined(separator: ",")) "
                            + "ports \(s.ports.count): \(s.ok ? "ok" : s.problems.joined(separator: "; "))")
            }
        }
    }

    /// Runs an overlay step, turning its errors into a message and a failing exit status.
    static func run<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as OverlayError {
            FileHandle.standardError.write(Data("overlay: \(error)\n".utf8))
            throw ExitCode.failure
        } catch let error as HostCommandError {
            FileHandle.standardError.write(Data("overlay: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the overlay (idempotent).")
        @OptionGroup var options: Options

        func run() async throws {
            let manager = try options.manager()
            let (plan, status) = try await options.audited("overlay up") { try OverlayCommand.run { try manager.up() } }
            for warning in plan.warnings { FileHandle.standardError.write(Data("overlay: \(warning)\n".utf8)) }
            try options.print(status)
            if !status.allSatisfy(\.ok) { throw ExitCode.failure }
        }
    }

    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove the overlay's devices and bridges.")
        @OptionGroup var options: Options

        func run() async throws {
            let manager = try options.manager()
            let removed = try await options.audited("overlay down") { try OverlayCommand.run { try manager.down() } }
            print(removed.isEmpty ? "nothing to remove" : "removed \(removed.joined(separator: " "))")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Compare the host with the plan; fails when they differ.")
        @OptionGroup var options: Options

        func run() throws {
            let manager = try options.manager()
            let status = try OverlayCommand.run { try manager.status() }
            try options.print(status)
            if !status.allSatisfy(\.ok) { throw ExitCode.failure }
        }
    }
}
