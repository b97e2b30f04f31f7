import GuesthouseCore
import Hummingbird

/// Each guest's JSON body and entity tag as last rendered, per host name, reused while the guest
/// reads the same: the guest routes then copy bytes instead of writing and hashing JSON on every
/// request (the host's view hands out the same guest until libvirt says it changed). Bounded.
final class RenderedGuests: Sendable {
    /// A guest's body and its `ETag`.
    struct Rendering: Sendable {
        let body: ByteBuffer
        let etag: String
        /// The headers of a 200 answer with this body and tag, made once.
        let headers: HTTPFields

        init(body: ByteBuffer, etag: String) {
            self.body = body
            self.etag = etag
            headers = [.contentType: "application/json", .eTag: etag]
        }
    }

    private struct Key: Hashable {
        var host: String
        var id: String
    }

    private struct Entry {
        var guest: SimplestackGuest
        var rendering: Rendering
    }

    private let table = Locked<[Key: Entry]>([:])
    /// More guests than this, and the table starts over.
    static let capacity = 16_384

    /// The guest's body and tag: the remembered ones while everything the JSON shows is the same.
    func rendering(of guest: SimplestackGuest) -> Rendering {
        let key = Key(host: guest.host, id: guest.guest.id)
        if let entry = table.withLock({ $0[key] }), entry.guest.rendersLike(guest) { return entry.rendering }
        let json = guest.json
        let rendering = Rendering(body: ByteBuffer(string: json), etag: EntityTag.of(Array(json.utf8)))
        table.withLock { table in
            if table.count >= Self.capacity { table.removeAll(keepingCapacity: true) }
            table[key] = Entry(guest: guest, rendering: rendering)
        }
        return rendering
    }

    /// The guests as a JSON array, from their remembered bodies.
    func list(_ guests: [SimplestackGuest]) -> ByteBuffer {
        let bodies = guests.map { rendering(of: $0).body }
        var out = ByteBuffer()
        out.reserveCapacity(bodies.reduce(2) { $0 + $1.readableBytes + 1 })
        out.writeInteger(UInt8(ascii: "["))
        for (index, body) in bodies.enumerated() {
            if index > 0 { out.writeInteger(UInt8(ascii: ",")) }
            out.writeImmutableBuffer(body)
        }
        out.writeInteger(UInt8(ascii: "]"))
        return out
    }
}
