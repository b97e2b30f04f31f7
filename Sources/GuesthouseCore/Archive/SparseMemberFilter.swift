/// Fits a volume's stream to the sparse map its archive member declared up front: data the map
/// covers is stored (holes inside it as zeros), data outside it must be zeros and is dropped. A
/// volume that changed since its map was read fails instead of giving a wrong archive.
public struct SparseMemberFilter: Sendable {
    private var cursor: SparseMapCursor
    public let volume: String

    public init(map: SparseMap, volume: String) {
        cursor = SparseMapCursor(map)
        self.volume = volume
    }

    /// The parts of `bytes` (the next bytes of the volume) the member stores, in order.
    /// - Throws: `hypervisorError` when the volume has data where the map has a hole, or more bytes
    ///   than its size.
    public mutating func data(_ bytes: [UInt8]) throws -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var at = 0
        for run in try advance(UInt64(bytes.count)) {
            let slice = bytes[at..<(at + Int(run.length))]
            at += Int(run.length)
            if run.isData {
                out.append(slice)
            } else if !slice.allSatisfy({ $0 == 0 }) {
                throw GuesthouseError.hypervisor("volume \(volume) changed while it was exported")
            }
        }
        return out
    }

    /// How many zero bytes the member stores for a hole of `length` bytes of the volume.
    public mutating func hole(_ length: UInt64) throws -> UInt64 {
        try advance(length).filter(\.isData).reduce(0) { $0 + $1.length }
    }

    /// - Throws: `hypervisorError` when the volume gave fewer bytes than its size.
    public func finish() throws {
        guard cursor.position == cursor.map.realSize else {
            throw GuesthouseError.hypervisor("volume \(volume) gave \(cursor.position) of \(cursor.map.realSize) bytes")
        }
    }

    private mutating func advance(_ count: UInt64) throws -> [(length: UInt64, isData: Bool)] {
        do { return try cursor.advance(count) } catch {
            throw GuesthouseError.hypervisor("volume \(volume) grew while it was exported")
        }
    }
}
