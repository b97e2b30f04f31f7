import Foundation

/// A snapshot of a guest.
public struct GuestSnapshot: Sendable, Equatable {
    /// The snapshot's name, which is also its id.
    public var name: String
    /// The guest's state when it was taken, e.g. "running", "shutoff".
    public var state: String
    /// When it was taken.
    public var created: Date?
    /// The external file holding it, when it is not internal.
    public var path: String?

    public init(name: String, state: String, created: Date?, path: String?) {
        self.name = name
        self.state = state
        self.created = created
        self.path = path
    }
}

/// Snapshots of a guest.
public protocol GuestSnapshots: Sendable {
    func snapshots(guestID: String) async throws -> [GuestSnapshot]
    func snapshot(guestID: String, name: String) async throws -> GuestSnapshot
    /// Takes a snapshot; `name` nil lets the hypervisor name it. A taken name is `operationNotAllowed`.
    func createSnapshot(guestID: String, name: String?) async throws -> GuestSnapshot
    /// Returns the guest to the snapshot.
    func revertSnapshot(guestID: String, name: String) async throws
    func deleteSnapshot(guestID: String, name: String) async throws
}
