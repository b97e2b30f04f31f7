import ArgumentParser
import Foundation
import GuesthouseConfig
import GuesthouseLibvirt
import GuesthouseServer

/// `guesthouse config check FILE`: validates a configuration the way `serve` would.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Work with configuration files.",
                                                    subcommands: [ConfigCheckCommand.self])
}

/// Prints the file/key error and exits 1, or prints what the configuration would serve and exits 0.
/// The TLS files are read too, as `serve` reads them before it starts.
struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Validate a configuration file and print what it would serve.")

    @Argument(help: "The TOML configuration file.")
    var file: String

    func run() throws {
        let config: Config
        do {
            config = try Config.load(path: file)
            _ = try ServerTLS.configuration(for: config.server, file: file)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("\(error.description)\n".utf8))
            throw ExitCode(1)
        }
        let families = Family.table(config: config).keys
        print(ConfigSummary.lines(config, file: file, families: Array(families)).joined(separator: "\n"))
    }
}
