/// Tags of a guest: a list of strings kept with the guest's definition, so that every server on
/// the same hypervisor sees them and they survive restarts.
public protocol GuestTags: Sendable {
    /// The guest's tags, in the order they were added.
    func tags(guestID: String) async throws -> [String]
    /// Adds a tag (no-op when present) and returns the whole list.
    func addTag(guestID: String, _ tag: String) async throws -> [String]
    /// Removes a tag; throws `entityNotFound` when the guest has no such tag.
    func removeTag(guestID: String, _ tag: String) async throws -> [String]
}
