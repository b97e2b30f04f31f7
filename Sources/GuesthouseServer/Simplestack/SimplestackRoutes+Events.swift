import Foundation
import GuesthouseCore
import Hummingbird
import ServiceLifecycle

extension SimplestackRoutes {
    /// `GET /{hypervisor}/{host}/events`: Server-Sent Events of the host's changes.
    func registerEvents(_ api: APIRoutes<GuesthouseContext>, heartbeat: Duration) {
        var operation = Operation(
            .get, Self.prefix + "/events", id: "events",
            summary: "Server-Sent Events of changes on the host: one JSON object per `data:` line, "
                + "a comment heartbeat every 15 s, a `host` event `reconnected` after the server reconnected "
                + "to the host (its view was rebuilt meanwhile). A client that falls 1024 events behind is cut off.",
            tag: "simplestack", success: (200, EventStreamBody.schema), errors: [400, 403, 404, 501, 502])
        operation.successMediaType = "text/event-stream"
        operation.queryParameters = [
            ("type", "only these kinds, comma-separated: guest, storage, host"),
            ("guest", "only events of this guest (UUID or name), and host events"),
        ]
        operation.parameterSchemas["type"] = .text(pattern: EventFilter.typesPattern)
        api.add(operation) { request, context in
            let filter = try EventFilter(request.uri.queryParameters.getAll("type"),
                                         guest: request.uri.queryParameters.get("guest"))
            let source = try await hypervisor(request, context, as: (any HostEventSource).self, operation: "events")
            let events = try await source.events()
            return Response(status: .ok,
                            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                            // Ends when the server shuts down, rather than holding the shutdown back.
                            body: ResponseBody(asyncSequence: EventStreamBody.bytes(events, filter: filter,
                                                                                     heartbeat: heartbeat)
                                                   .cancelOnGracefulShutdown()))
        }
    }
}

/// Which events a client asked for.
struct EventFilter: Sendable {
    var types: Set<HostEvent.Subject>
    var guest: String?

    /// What `type` takes: kinds separated by commas, nothing else (the OpenAPI document's pattern).
    static let typesPattern: String = {
        let kind = "(" + HostEvent.Subject.allCases.map(\.rawValue).joined(separator: "|") + ")"
        return "^\(kind)(,\(kind))*$"
    }()

    init(_ typeParameters: [String], guest: String?) throws {
        var types = Set<HostEvent.Subject>()
        for name in typeParameters.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            guard let type = HostEvent.Subject(rawValue: String(name)) else {
                let known = HostEvent.Subject.allCases.map(\.rawValue).joined(separator: ", ")
                throw GuesthouseError.invalid("type: unknown event type '\(name)' (known: \(known))")
            }
            types.insert(type)
        }
        self.types = types.isEmpty ? Set(HostEvent.Subject.allCases) : types
        self.guest = guest.flatMap { $0.isEmpty ? nil : $0 }
    }

    func matches(_ event: HostEvent) -> Bool {
        guard types.contains(event.type) else { return false }
        guard let guest, event.type != .host else { return true }
        guard event.type == .guest else { return false }
        return event.name == guest || event.id.map { Self.sameUUID($0, guest) } == true
    }

    /// Whether two UUIDs are equal, dashed or not, in any case.
    static func sameUUID(_ a: String, _ b: String) -> Bool {
        a.replacingOccurrences(of: "-", with: "").lowercased() == b.replacingOccurrences(of: "-", with: "").lowercased()
    }
}

/// The bytes of one client's event stream: a comment when it opens, then one `data:` line per
/// event and a comment heartbeat. Its buffer is bounded; a client that does not keep up is cut off
/// (the stream ends) and never holds anything back.
enum EventStreamBody {
    static let bufferedChunks = 4096

    static let schema: Schema = .object([
        "type": .string(enumeration: HostEvent.Subject.allCases.map(\.rawValue)),
        "action": .string(),
        "id": .string(),
        "name": .string(),
        "state": .string(enumeration: ["STARTED", "STOPPED", "PAUSED"]),
    ], required: ["type", "action"])

    static func bytes(_ events: AsyncStream<HostEvent>, filter: EventFilter, heartbeat: Duration)
        -> AsyncStream<ByteBuffer> {
        let (output, continuation) = AsyncStream.makeStream(of: ByteBuffer.self,
                                                            bufferingPolicy: .bufferingOldest(bufferedChunks))
        continuation.yield(ByteBuffer(string: ": events of this host follow\n\n"))
        let feeder = Task {
            for await event in events where filter.matches(event) {
                if case .dropped = continuation.yield(ByteBuffer(string: "data: \(json(event))\n\n")) { break }
            }
            continuation.finish()
        }
        let beat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeat)
                if case .dropped = continuation.yield(ByteBuffer(string: ": heartbeat\n\n")) { break }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in
            feeder.cancel()
            beat.cancel()
        }
        return output
    }

    /// The event as one line of JSON.
    static func json(_ event: HostEvent) -> String {
        var object: [String: String] = ["type": event.type.rawValue, "action": event.action]
        if let id = event.id { object["id"] = id }
        if let name = event.name { object["name"] = name }
        if let state = event.state { object["state"] = state.rawValue }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
