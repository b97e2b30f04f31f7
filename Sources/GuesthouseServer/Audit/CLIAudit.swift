import Foundation
import GuesthouseConfig
import Logging

/// Audit lines for the `guesthouse` command's local changes (`token create`, `overlay up|down`,
/// `rootfs build`): interface `cli`, the Unix user running it, source `local`. They go to the same
/// `[server] audit_log` as the server's (when the file can be opened: the command is refused
/// otherwise, so a change is never made unrecorded) and to the logger.
public struct CLIAudit: Sendable {
    private let log: AuditLog

    /// - Throws: `GuesthouseError` naming the file when `audit_log` is set but cannot be opened.
    public init(config: Config, logger: Logger = Logger(label: "guesthouse.audit")) throws {
        log = try AuditLog(path: config.server.auditLog, logger: logger)
    }

    /// The Unix user running the command.
    public static var unixUser: String {
        if let name = getpwuid(geteuid())?.pointee.pw_name { return String(cString: name) }
        return "uid \(geteuid())"
    }

    /// Records one command and its result (`ok` or the error), and waits until it is written.
    public func record(action: String, target: [String: String] = [:], result: String, token: String? = nil) async {
        log.record(AuditEntry(user: Self.unixUser, interface: "cli", source: "local", action: action,
                              target: target, result: result, status: 0, token: token))
        await log.flush()
    }

    /// Runs `body` (a change) and records it, with its error if it fails.
    public func recording<T>(action: String, target: [String: String] = [:],
                             _ body: () async throws -> T) async throws -> T {
        do {
            let value = try await body()
            await record(action: action, target: target, result: "ok")
            return value
        } catch {
            await record(action: action, target: target, result: "\(error)")
            throw error
        }
    }
}
