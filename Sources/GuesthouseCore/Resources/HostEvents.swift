/// A change on a host, as the event stream (`GET /{hypervisor}/{host}/events`) reports it.
public struct HostEvent: Sendable, Equatable {
    /// What changed: a guest, a storage pool, or the server's connection to the host.
    public enum Subject: String, Sendable, CaseIterable {
        case guest, storage, host
    }

    public var type: Subject
    /// For guests `defined|undefined|started|stopped|paused|resumed|updated|deleted`; for storage
    /// `defined|undefined|started|stopped|created|deleted|refreshed`; for the host `reconnected`.
    public var action: String
    /// The guest's or pool's UUID.
    public var id: String?
    public var name: String?
    /// The guest's state after the change.
    public var state: GuestState?

    public init(type: Subject, action: String, id: String? = nil, name: String? = nil, state: GuestState? = nil) {
        self.type = type
        self.action = action
        self.id = id
        self.name = name
        self.state = state
    }
}

/// A hypervisor that reports its changes as they happen.
public protocol HostEventSource: Sendable {
    /// Events from now on. The stream ends when the subscriber falls too far behind (its buffer is
    /// bounded: a slow reader is cut off rather than holding anything back).
    func events() async throws -> AsyncStream<HostEvent>
}
