import Foundation
import GuesthouseCore
import GuesthouseServer
import Testing

@Suite struct OperationRegistryTests {
    /// Polls until the operation left `running`, or fails after a few seconds.
    func finished(_ registry: OperationRegistry, _ id: String, owner: String) async throws -> OperationStatus {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let status = try await registry.status(id: id, owner: owner)
            if status.state != .running { return status }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw GuesthouseError(.internalError, "operation \(id) did not finish")
    }

    @Test func onlyTheOwnerSeesAnOperationAndFinishedOnesExpireWithTheirFiles() async throws {
        let passed = Locked(Duration.zero)
        let start = ContinuousClock.now
        let registry = OperationRegistry(ttl: .seconds(60)) { start + passed.withLock { $0 } }
        let owner = OperationRegistry.owner(Credentials(username: "a", password: "p"))
        let other = OperationRegistry.owner(Credentials(username: "a", password: "q"))
        let scratch = try ScratchDirectory(label: "guesthouse-test-op")
        let file = scratch.file("result")
        let id = try await registry.start(owner: owner, kind: "export", progress: TransferProgress(total: 3), scratch: scratch) { progress in
            try Data("abc".utf8).write(to: URL(fileURLWithPath: file))
            progress.add(3)
            return OperationOutcome(file: file, fileName: "x.tar")
        }
        let status = try await finished(registry, id, owner: owner)
        #expect(status.state == .succeeded)
        #expect(status.bytesDone == 3 && status.bytesTotal == 3)
        #expect(status.result == "/operations/\(id)/result")
        #expect(try await registry.resultFile(id: id, owner: owner).path == file)
        await #expect(throws: GuesthouseError.self) { try await registry.status(id: id, owner: other) }
        passed.withLock { $0 = .seconds(59) }
        #expect(try await registry.status(id: id, owner: owner).state == .succeeded)
        passed.withLock { $0 = .seconds(61) }
        await #expect(throws: GuesthouseError.self) { try await registry.status(id: id, owner: owner) }
        #expect(!FileManager.default.fileExists(atPath: scratch.path))
    }

    @Test func aCancelStopsTheWorkAndUndoesWhatFinishedAnyway() async throws {
        let registry = OperationRegistry()
        let owner = OperationRegistry.owner(Credentials(username: "a", password: "p"))
        let undone = Locked(false)
        // Work that ignores cancellation and succeeds: the cancel must undo it.
        let id = try await registry.start(owner: owner, kind: "clone", progress: TransferProgress(), scratch: nil) { _ in
            try await Task { try await Task.sleep(for: .milliseconds(100)) }.value
            return OperationOutcome(location: "/x", undo: { undone.withLock { $0 = true } })
        }
        let cancelled = try await registry.cancel(id: id, owner: owner)
        #expect(cancelled.state == .cancelled)
        #expect(undone.withLock { $0 })
        // Work that honours cancellation fails fast and is reported cancelled, not failed.
        let second = try await registry.start(owner: owner, kind: "import", progress: TransferProgress(), scratch: nil) { _ in
            try await Task.sleep(for: .seconds(60))
            return OperationOutcome()
        }
        #expect(try await registry.cancel(id: second, owner: owner).state == .cancelled)
        #expect(try await registry.status(id: second, owner: owner).error == nil)
    }

    @Test func oneOwnerRunsABoundedNumberOfOperations() async throws {
        let registry = OperationRegistry(maxRunningPerOwner: 2)
        let owner = OperationRegistry.owner(Credentials(username: "a", password: "p"))
        let other = OperationRegistry.owner(Credentials(username: "b", password: "p"))
        let slow: @Sendable (TransferProgress) async throws -> OperationOutcome = { _ in
            try await Task.sleep(for: .seconds(60))
            return OperationOutcome()
        }
        let first = try await registry.start(owner: owner, kind: "x", progress: TransferProgress(), scratch: nil, work: slow)
        _ = try await registry.start(owner: owner, kind: "x", progress: TransferProgress(), scratch: nil, work: slow)
        await #expect(throws: GuesthouseError.conflict("2 operations of yours are running; wait for one to finish or cancel one")) {
            try await registry.start(owner: owner, kind: "x", progress: TransferProgress(), scratch: nil, work: slow)
        }
        let theirs = try await registry.start(owner: other, kind: "x", progress: TransferProgress(), scratch: nil, work: slow)
        _ = try await registry.cancel(id: first, owner: owner)
        let third = try await registry.start(owner: owner, kind: "x", progress: TransferProgress(), scratch: nil, work: slow)
        for (id, who) in [(third, owner), (theirs, other)] { _ = try await registry.cancel(id: id, owner: who) }
    }
}
