import Crypto
import Foundation
import GuesthouseCore

/// What a finished operation leaves: where its result lives, an archive file to fetch (exports),
/// and how to undo it when a cancel came too late to stop it.
public struct OperationOutcome: Sendable {
    public var location: String?
    /// A file of the operation's scratch directory served by `GET /operations/{id}/result`.
    public var file: String?
    public var fileName: String?
    public var undo: (@Sendable () async -> Void)?

    public init(location: String? = nil, file: String? = nil, fileName: String? = nil,
                undo: (@Sendable () async -> Void)? = nil) {
        self.location = location
        self.file = file
        self.fileName = fileName
        self.undo = undo
    }
}

/// An operation as its owner sees it.
public struct OperationStatus: Sendable, Equatable {
    public enum State: String, Sendable { case running, succeeded, failed, cancelled }
    public var id: String
    public var kind: String
    public var state: State
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
    public var location: String?
    /// `/operations/{id}/result` once an archive is ready.
    public var result: String?
    public var error: GuesthouseError?
}

/// The long transfers this server runs (`Prefer: respond-async`): each a task with its progress,
/// owned by the credentials that started it (a SHA-256 of user and password; nobody else sees it).
/// Finished operations are forgotten `ttl` after they end, their scratch files removed with them.
public actor OperationRegistry {
    private struct Entry {
        var owner: String
        var kind: String
        var progress: TransferProgress
        var scratch: ScratchDirectory?
        var task: Task<Void, Never>?
        var state: OperationStatus.State = .running
        var cancelRequested = false
        var outcome: OperationOutcome?
        var error: GuesthouseError?
        var finishedAt: ContinuousClock.Instant?
    }

    private var entries: [String: Entry] = [:]
    private let ttl: Duration
    private let maxRunningPerOwner: Int
    private let now: @Sendable () -> ContinuousClock.Instant

    /// - Parameters:
    ///   - ttl: how long a finished operation (and an export's archive) is kept.
    ///   - maxRunningPerOwner: how many operations one owner may have running at once.
    ///   - now: the clock (replaceable so tests can let time pass).
    public init(ttl: Duration = .seconds(3600), maxRunningPerOwner: Int = 8,
                now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.ttl = ttl
        self.maxRunningPerOwner = maxRunningPerOwner
        self.now = now
    }

    /// A registry that goes away (its server stopped) cancels what still runs and removes every
    /// scratch file it kept.
    deinit {
        for entry in entries.values {
            entry.task?.cancel()
            entry.scratch?.remove()
        }
    }

    /// The owner key of a credential.
    public nonisolated static func owner(_ credentials: Credentials) -> String {
        var hasher = SHA256()
        hasher.update(data: Data(credentials.username.utf8))
        hasher.update(data: [0])
        hasher.update(data: Data(credentials.password.utf8))
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Starts `work` as an operation and returns its id. `scratch` (if any) belongs to the
    /// operation from now on: it is removed when the operation fails, is cancelled or expires.
    /// - Throws: `operationNotAllowed` when the owner already has `maxRunningPerOwner` running
    ///   (then `scratch` stays the caller's).
    public func start(owner: String, kind: String, progress: TransferProgress, scratch: ScratchDirectory?,
                      work: @escaping @Sendable (TransferProgress) async throws -> OperationOutcome) throws -> String {
        sweep()
        let running = entries.values.filter { $0.owner == owner && $0.state == .running }.count
        guard running < maxRunningPerOwner else {
            throw GuesthouseError.conflict("\(running) operations of yours are running; wait for one to finish or cancel one")
        }
        let id = UUID().uuidString.lowercased()
        entries[id] = Entry(owner: owner, kind: kind, progress: progress, scratch: scratch)
        entries[id]?.task = Task {
            do {
                let outcome = try await work(progress)
                await self.finish(id, outcome: outcome, error: nil)
            } catch {
                await self.finish(id, outcome: nil, error: error)
            }
        }
        return id
    }

    private func finish(_ id: String, outcome: OperationOutcome?, error: (any Error)?) async {
        guard var entry = entries[id] else { return }
        if entry.cancelRequested {
            // Undone in a task of its own: this one is cancelled, and the undo must not be.
            if let undo = outcome?.undo { await Task { await undo() }.value }
            entry.state = .cancelled
        } else if let error {
            entry.state = .failed
            entry.error = error as? GuesthouseError ?? GuesthouseError(.internalError, "the operation failed: \(error)")
        } else {
            entry.state = .succeeded
            entry.outcome = outcome
            entry.progress.complete()
        }
        if entry.state != .succeeded || outcome?.file == nil {
            entry.scratch?.remove()
            entry.scratch = nil
        }
        entry.finishedAt = now()
        entry.task = nil
        entries[id] = entry
    }

    /// Whether `owner` has any operation here (running or kept after it ended).
    public func hasOperations(of owner: String) -> Bool {
        entries.values.contains { $0.owner == owner }
    }

    /// The operation's status, if `owner` owns it.
    /// - Throws: `entityNotFound` otherwise (another owner's operations do not exist for you).
    public func status(id: String, owner: String) throws -> OperationStatus {
        sweep()
        let entry = try lookup(id, owner)
        return OperationStatus(id: id, kind: entry.kind, state: entry.state, bytesDone: entry.progress.done,
                               bytesTotal: entry.progress.total, location: entry.outcome?.location,
                               result: entry.outcome?.file == nil ? nil : "/operations/\(id)/result", error: entry.error)
    }

    /// Cancels a running operation and waits until its task has cleaned up; a finished one is
    /// forgotten (with its archive). Returns the last status.
    public func cancel(id: String, owner: String) async throws -> OperationStatus {
        let entry = try lookup(id, owner)
        if let task = entry.task {
            entries[id]?.cancelRequested = true
            task.cancel()
            await task.value
            return try status(id: id, owner: owner)
        }
        let last = try status(id: id, owner: owner)
        entries[id]?.scratch?.remove()
        entries[id] = nil
        return last
    }

    /// The archive of a succeeded export: its path and the name to offer.
    /// - Throws: `entityNotFound`, or `operationNotAllowed` while it is not ready.
    public func resultFile(id: String, owner: String) throws -> (path: String, name: String) {
        let entry = try lookup(id, owner)
        guard entry.state == .succeeded, let file = entry.outcome?.file else {
            throw GuesthouseError.conflict("operation \(id) has no result to fetch (it is \(entry.state.rawValue))")
        }
        return (file, entry.outcome?.fileName ?? "result")
    }

    /// How many operations are known (running or kept).
    public var count: Int { entries.count }

    private func lookup(_ id: String, _ owner: String) throws -> Entry {
        guard let entry = entries[id], entry.owner == owner else { throw GuesthouseError.notFound("operation '\(id)' not found") }
        return entry
    }

    private func sweep() {
        let now = self.now()
        for (id, entry) in entries {
            if let finished = entry.finishedAt, finished + ttl < now {
                entry.scratch?.remove()
                entries[id] = nil
            }
        }
    }
}
