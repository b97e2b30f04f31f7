import Foundation
import GuesthouseCore
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One line of the audit log: who changed (or was refused changing) what, through which interface.
public struct AuditEntry: Codable, Sendable, Equatable {
    /// RFC 3339, UTC.
    public var time: String
    /// The user acted as (or tried to log in as); "" when no credentials were sent.
    public var user: String
    /// simplestack, vmango, web, containers, wirt or cli.
    public var interface: String
    /// The client's address; "" when unknown.
    public var source: String
    /// Method and route template, e.g. `PUT /{hypervisor}/{host}/guests/{guest_id}/power`.
    public var action: String
    /// The path parameters naming the target (hypervisor, host, guest id, provider, machine id...).
    public var target: [String: String]
    /// `ok`, or the error's class and message.
    public var result: String
    /// The HTTP status answered (0 where there is none, e.g. a wirt command).
    public var status: Int
    /// The id (`jti`) of the API token the request came with; absent otherwise.
    public var token: String?

    public init(time: Date = Date(), user: String, interface: String, source: String, action: String,
                target: [String: String], result: String, status: Int, token: String? = nil) {
        self.time = AuditLog.timestamp(time)
        self.user = user
        self.interface = interface
        self.source = source
        self.action = action
        self.target = target
        self.result = result
        self.status = status
        self.token = token
    }
}

/// Appends audit entries as JSON lines to `[server] audit_log` (opened append-only, created 0600)
/// and to the logger. Lines are written on one serial queue, off the request's path and in order;
/// none is dropped. Without a file the logger alone receives them.
public final class AuditLog: Sendable {
    private let path: String?
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "guesthouse.audit")
    private let logger: Logger

    /// An audit log that only logs (no `[server] audit_log`).
    public init(logger: Logger) {
        path = nil
        descriptor = -1
        self.logger = logger
    }

    /// - Throws: `GuesthouseError` naming the file when it cannot be opened.
    public init(path: String?, logger: Logger) throws {
        self.path = path
        self.logger = logger
        if let path {
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else {
                throw GuesthouseError(.internalError, "cannot open audit_log \(path): \(String(cString: strerror(errno)))")
            }
            descriptor = fd
        } else {
            descriptor = -1
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Whether entries go to a file (and can be read back).
    public var hasFile: Bool { path != nil }

    /// Queues `entry`; it reaches the file soon, in the order recorded.
    public func record(_ entry: AuditEntry) {
        var metadata: Logger.Metadata = ["user": "\(entry.user)", "interface": "\(entry.interface)",
                                         "source": "\(entry.source)", "result": "\(entry.result)"]
        if let token = entry.token { metadata["token"] = "\(token)" }
        if !entry.target.isEmpty { metadata["target"] = "\(entry.target.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))" }
        logger.info("audit: \(entry.action)", metadata: metadata)
        guard descriptor >= 0 else { return }
        let line = ((try? Self.encoder.encode(entry)) ?? Data()) + [0x0a]
        let fd = descriptor
        queue.async {
            line.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 { if errno == EINTR { continue }; return }
                    offset += n
                }
            }
        }
    }

    /// Records a wirt spool command (or refusal): the spool's audit hook.
    public var wirtRecorder: @Sendable (_ user: String, _ vm: String, _ command: String, _ result: String) -> Void {
        { [self] user, vm, command, result in
            record(AuditEntry(user: user, interface: "wirt", source: "", action: command,
                              target: vm.isEmpty ? [:] : ["guest": vm],
                              result: result.hasPrefix("ok") ? "ok" : result, status: 0))
        }
    }

    /// Waits until every entry recorded so far is in the file.
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { continuation.resume() }
        }
    }

    /// The entries at or after `since` by `user` (each when given), oldest first, from `offset`, at most `limit`.
    /// - Returns: the page and the offset of the next one (nil at the end).
    public func read(since: Date?, user: String?, offset: Int, limit: Int) async throws -> (entries: [AuditEntry], next: Int?) {
        guard let path else { throw GuesthouseError.notFound("no [server] audit_log is configured") }
        // Read on the writer's queue: every line recorded before is in the file by then.
        let data = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Data, any Error>) in
            queue.async { continuation.resume(with: Result { try Data(contentsOf: URL(fileURLWithPath: path)) }) }
        }
        let decoder = JSONDecoder()
        let sinceText = since.map(Self.timestamp)
        var matched = 0
        var page: [AuditEntry] = []
        var more = false
        for line in data.split(separator: 0x0a) {
            guard let entry = try? decoder.decode(AuditEntry.self, from: line) else { continue }
            if let sinceText, entry.time < sinceText { continue }
            if let user, entry.user != user { continue }
            defer { matched += 1 }
            guard matched >= offset else { continue }
            if page.count == limit { more = true; break }
            page.append(entry)
        }
        return (page, more ? offset + page.count : nil)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// RFC 3339 in UTC with milliseconds; such strings sort as their times do.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
