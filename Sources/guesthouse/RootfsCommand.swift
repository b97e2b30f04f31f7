import ArgumentParser
import Foundation
import GuesthouseConfig
import GuesthouseContainers
import GuesthouseServer

/// `guesthouse rootfs build [--config F]`: builds the containers' base root filesystem from
/// busybox-static (containers also build it on first use).
struct RootfsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rootfs", abstract: "Build the containers' base root filesystem.", subcommands: [Build.self])

    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build the base from busybox-static (once).")

        @Option(name: .shortAndLong, help: "TOML configuration file; [containers] rootfs and busybox are used.")
        var config: String?

        func run() async throws {
            var settings = Config()
            if let config {
                do {
                    settings = try Config.load(path: config)
                } catch let error as ConfigError {
                    throw ValidationError(error.description)
                }
            }
            let containers = settings.containers ?? ContainersConfig()
            let base = BaseRootfs(path: containers.rootfs, busybox: containers.busybox)
            if base.isBuilt { print("\(containers.rootfs) is already built"); return }
            let start = ContinuousClock.now
            // A build changes the host: a `cli` line in the audit log (the logger's only, without a config).
            try await CLIAudit(config: settings).recording(action: "rootfs build", target: ["rootfs": containers.rootfs]) {
                try base.ensure { print($0) }
            }
            print("built in \(ContinuousClock.now - start)")
        }
    }
}
