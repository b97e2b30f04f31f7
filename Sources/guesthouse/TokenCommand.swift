import ArgumentParser
import Foundation
import GuesthouseConfig
import GuesthouseServer

/// `guesthouse token create --config F --user NAME [--expires 30d] [--read-only]`: prints an API
/// token for `Authorization: Bearer`, signed with `[server] token_secret`, and records it in the
/// audit log (its id, never the token).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Make API tokens.",
                                                    subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a signed API token for a configured user (revoke it with [server] revoked_tokens).")

        @Option(name: .shortAndLong, help: "TOML configuration file with [server] token_secret.")
        var config: String
        @Option(help: "The configured [user.NAME] the token acts as.")
        var user: String
        @Option(help: "Lifetime: a number with s, m, h, d or w (e.g. 30d, 12h).")
        var expires = "30d"
        @Flag(help: "The token may only read: any change answers 403.")
        var readOnly = false

        func run() async throws {
            let settings: Config
            do {
                settings = try Config.load(path: config)
            } catch let error as ConfigError {
                throw ValidationError(error.description)
            }
            guard let lifetime = APITokens.lifetime(expires) else {
                throw ValidationError("--expires must be a number with s, m, h, d or w, e.g. 30d")
            }
            guard settings.users[user] != nil else { throw ValidationError("\(config) has no [user.\(user)]") }
            guard settings.server.tokenSecret != nil else {
                throw ValidationError("\(config) has no [server] token_secret (at least 32 characters, e.g. `openssl rand -hex 32`)")
            }
            let audit = try CLIAudit(config: settings)
            let (token, claims) = try await APITokens(settings.server).sign(user: user, lifetime: lifetime, readOnly: readOnly)
            await audit.record(action: "token create", target: ["subject": user, "read_only": String(readOnly),
                                                                "expires": ISO8601DateFormatter().string(from: claims.exp.value)],
                               result: "ok", token: claims.jti.value)
            FileHandle.standardError.write(Data("token \(claims.jti.value) for \(user), expires \(claims.exp.value)\(readOnly ? ", read-only" : "")\n".utf8))
            print(token)
        }
    }
}
