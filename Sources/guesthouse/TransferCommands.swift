import ArgumentParser
import AsyncHTTPClient
import Foundation
import GuesthouseClient

/// Where the server is and who we are: flags, or GUESTHOUSE_URL / GUESTHOUSE_USER / GUESTHOUSE_PASSWORD.
struct ServerOptions: ParsableArguments {
    @Option(help: "The server's URL (default: $GUESTHOUSE_URL, else http://127.0.0.1:8080).")
    var url: String?
    @Option(help: "User name (default: $GUESTHOUSE_USER).")
    var user: String?
    @Option(help: "Password (default: $GUESTHOUSE_PASSWORD; prefer the environment, flags show in ps).")
    var password: String?
    @Option(help: "Hypervisor family of the Simplestack path.")
    var family = "kvm"
    @Option(help: "Host of the Simplestack path.")
    var host = "localhost"

    /// Runs `body` with a client for these options, shutting the HTTP client down afterwards.
    func withClient<T>(_ body: (GuesthouseClient) async throws -> T) async throws -> T {
        let env = ProcessInfo.processInfo.environment
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let client = GuesthouseClient(baseURL: url ?? env["GUESTHOUSE_URL"] ?? "http://127.0.0.1:8080",
                                      username: user ?? env["GUESTHOUSE_USER"],
                                      password: password ?? env["GUESTHOUSE_PASSWORD"], http: http)
        do {
            let result = try await body(client)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export",
                                                    abstract: "Export a stopped guest from a server into a tar archive.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The guest's id or name.") var guest: String
    @Option(name: .shortAndLong, help: "The archive to write (default: GUEST.tar).") var output: String?

    func run() async throws {
        try await server.withClient { client in
            _ = try await client.export(family: server.family, host: server.host, guest: guest, to: output ?? "\(guest).tar",
                                        display: TransferDisplay(label: "export \(guest)"))
        }
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import",
                                                    abstract: "Import a guest from an export archive or an OVA.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The archive (.tar) or OVA.") var file: String
    @Option(help: "The storage pool for its disks.") var storage: String?
    @Option(help: "The new guest's name (OVA only; default: the OVF's).") var name: String?

    func run() async throws {
        try await server.withClient { client in
            let location = try await client.importGuest(family: server.family, host: server.host, storage: storage, file: file,
                                                        name: name, display: TransferDisplay(label: "import"))
            print(location)
        }
    }
}

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "image", abstract: "Disk images on a server.",
                                                    subcommands: [ImageImportCommand.self])
}

struct ImageImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import",
                                                    abstract: "Import a raw, qcow2, VMDK or VHDX image as a volume of a pool.")
    @OptionGroup var server: ServerOptions
    @Argument(help: "The image file.") var file: String
    @Option(help: "The storage pool (id or name).") var storage: String
    @Option(help: "The new volume's name.") var name: String

    func run() async throws {
        try await server.withClient { client in
            let location = try await client.importImage(family: server.family, host: server.host, storage: storage,
                                                        name: name, file: file, display: TransferDisplay(label: "image import"))
            print(location)
        }
    }
}
