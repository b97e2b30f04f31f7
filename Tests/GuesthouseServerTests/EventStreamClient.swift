import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// A client of `GET .../events` over a real socket: collects the stream's events as they come and
/// waits for one with a deadline (never a sleep).
final class EventStreamClient: Sendable {
    let status: Int
    let contentType: String
    private let inbox: EventInbox
    private let reader: Task<Void, Never>

    struct Timeout: Error, CustomStringConvertible {
        var description: String
    }

    /// Opens the stream; returns once the server answered (it subscribes before it answers).
    static func open(port: Int, path: String, headers: [(String, String)]) async throws -> EventStreamClient {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let inbox = EventInbox()
        let reader = Task {
            var pending = ""
            do {
                for try await chunk in response.body {
                    pending += String(buffer: chunk)
                    while let end = pending.range(of: "\n\n") {
                        let message = String(pending[..<end.lowerBound])
                        pending = String(pending[end.upperBound...])
                        for line in message.split(separator: "\n") where line.hasPrefix("data: ") {
                            let json = Data(line.dropFirst(6).utf8)
                            let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: String] ?? [:]
                            await inbox.add(object)
                        }
                        if message.hasPrefix(":") { await inbox.comment(message) }
                    }
                }
            } catch {}
            await inbox.close()
        }
        return EventStreamClient(status: Int(response.status.code),
                                 contentType: response.headers.first(name: "content-type") ?? "",
                                 inbox: inbox, reader: reader)
    }

    private init(status: Int, contentType: String, inbox: EventInbox, reader: Task<Void, Never>) {
        self.status = status
        self.contentType = contentType
        self.inbox = inbox
        self.reader = reader
    }

    /// The first event (since the stream opened) that matches, waiting at most `within`.
    func event(within: Duration, _ what: String, where predicate: @escaping @Sendable ([String: String]) -> Bool)
        async throws -> [String: String] {
        try await inbox.wait(within: within, what: what, predicate)
    }

    /// Waits (polling, with a deadline) until at least `count` events arrived; returns them.
    func received(atLeast count: Int, within: Duration) async throws -> [[String: String]] {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            let events = await inbox.events
            if events.count >= count { return events }
            if await inbox.closed { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw Timeout(description: "fewer than \(count) events within \(within): \(await inbox.events.count)")
    }

    /// Waits (polling, with a deadline) for a comment containing `text`.
    func comment(containing text: String, within: Duration) async throws {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if await inbox.comments.contains(where: { $0.contains(text) }) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw Timeout(description: "no comment with '\(text)' within \(within)")
    }

    /// Every event received so far.
    func received() async -> [[String: String]] { await inbox.events }

    /// Whether the server ended the stream.
    func isClosed() async -> Bool { await inbox.closed }

    /// Comments received so far (heartbeats).
    func comments() async -> [String] { await inbox.comments }

    func close() { reader.cancel() }
}

private actor EventInbox {
    private(set) var events: [[String: String]] = []
    private(set) var comments: [String] = []
    private(set) var closed = false
    private var waiters: [UInt64: (predicate: @Sendable ([String: String]) -> Bool,
                                   continuation: CheckedContinuation<[String: String], any Error>)] = [:]
    private var nextID: UInt64 = 0

    func add(_ event: [String: String]) {
        events.append(event)
        for (id, waiter) in waiters where waiter.predicate(event) {
            waiters[id] = nil
            waiter.continuation.resume(returning: event)
        }
    }

    func comment(_ text: String) { comments.append(text) }

    func close() {
        closed = true
        for (_, waiter) in waiters {
            waiter.continuation.resume(throwing: EventStreamClient.Timeout(description: "the stream ended"))
        }
        waiters = [:]
    }

    func wait(within: Duration, what: String, _ predicate: @escaping @Sendable ([String: String]) -> Bool)
        async throws -> [String: String] {
        if let found = events.first(where: predicate) { return found }
        if closed { throw EventStreamClient.Timeout(description: "the stream ended before \(what)") }
        nextID += 1
        let id = nextID
        let seen = events
        return try await withCheckedThrowingContinuation { continuation in
            waiters[id] = (predicate, continuation)
            Task {
                try? await Task.sleep(for: within)
                self.expire(id, what: "no \(what) within \(within); received \(seen.count) events before waiting")
            }
        }
    }

    private func expire(_ id: UInt64, what: String) {
        guard let waiter = waiters.removeValue(forKey: id) else { return }
        waiter.continuation.resume(throwing: EventStreamClient.Timeout(description: what + ", all: \(events)"))
    }
}
