/// The CD-ROM of a guest.
public protocol GuestMedia: Sendable {
    /// The mounted image's volume name, nil when empty or when there is no drive.
    func mediaDevice(guestID: String) async throws -> String?
    /// Mounts the ISO volume `name` (found in any storage pool), or ejects with nil.
    func setMediaDevice(guestID: String, name: String?) async throws -> String?
    /// The names of the ISO images (volumes ending in `.iso`) of every running pool, sorted, machines'
    /// config drives (`*_config.iso`) left out: what `setMediaDevice` can mount.
    func mediaImages() async throws -> [String]
}

/// Copies of guests.
public protocol GuestCloning: Sendable {
    /// Defines a new guest like `guestID` with its own copies of the disks.
    func cloneGuest(guestID: String, name: String) async throws -> Guest
}
