import ArgumentParser
import Foundation
import GuesthouseConfig
import GuesthouseContainers

/// `guesthouse rootfs build [--config F]`: builds the containers' base root filesystem from
/// busybox-static (containers also build it on first use).
struct RootfsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rootfs", abstract: "Build the containers' base root filesystem.", subcommands: [Build.self])

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build the base from busybox-static (once).")

        @Option(name: .shortAndLong, help: "TOML configuration file; [containers] rootfs and busybox are used.")
        var config: String?

        func run() throws {
            var containers = ContainersConfig()
            if let config {
                do {
                    containers = try Config.load(path: config).containers ?? containers
                } catch let error as ConfigError {
                    throw ValidationError(error.description)
                }
            }
            let base = BaseRootfs(path: containers.rootfs, busybox: containers.busybox)
            if base.isBuilt { print("\(containers.rootfs) is already built"); return }
            let start = ContinuousClock.now
            try base.ensure { print($0) }
            print("built in \(ContinuousClock.now - start)")
        }
    }
}
