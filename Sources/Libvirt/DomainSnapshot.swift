internal import CLibvirt

/// A snapshot of a domain. Every method blocks.
public final class DomainSnapshot: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { virDomainSnapshotFree(pointer) }

    /// The snapshot's name.
    public var name: String { virDomainSnapshotGetName(pointer).map { String(cString: $0) } ?? "" }

    /// The snapshot's XML description.
    public func xml() throws -> String {
        try takeString("virDomainSnapshotGetXMLDesc", virDomainSnapshotGetXMLDesc(pointer, 0))
    }

    /// Returns the domain to this snapshot's state.
    public func revert() throws {
        try check("virDomainRevertToSnapshot", virDomainRevertToSnapshot(pointer, 0))
    }

    /// Deletes the snapshot (its data and metadata).
    public func delete() throws {
        try check("virDomainSnapshotDelete", virDomainSnapshotDelete(pointer, 0))
    }
}

extension Domain {
    /// Every snapshot of the domain.
    public func snapshots() throws -> [DomainSnapshot] {
        var list: UnsafeMutablePointer<OpaquePointer?>?
        let count = try check("virDomainListAllSnapshots", virDomainListAllSnapshots(pointer, &list, 0))
        defer { free(list) }
        return (0..<Int(count)).compactMap { i in list?[i].map(DomainSnapshot.init) }
    }

    /// The snapshot with this name.
    public func snapshot(name: String) throws -> DomainSnapshot {
        guard let s = virDomainSnapshotLookupByName(pointer, name, 0) else {
            throw LibvirtError.last("virDomainSnapshotLookupByName")
        }
        return DomainSnapshot(s)
    }

    /// Takes a snapshot described by XML.
    public func createSnapshot(xml: String) throws -> DomainSnapshot {
        guard let s = virDomainSnapshotCreateXML(pointer, xml, 0) else {
            throw LibvirtError.last("virDomainSnapshotCreateXML")
        }
        return DomainSnapshot(s)
    }
}
