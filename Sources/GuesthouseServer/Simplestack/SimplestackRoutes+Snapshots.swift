import Foundation
import GuesthouseCore
import Hummingbird

extension SimplestackRoutes {
    func registerSnapshots(_ api: APIRoutes<GuesthouseContext>) {
        let p = Self.prefix + "/guests/{guest_id}/snapshots"
        let errors = [403, 404, 501, 502]
        api.add(Operation(.get, p, id: "snapshotList", summary: "The guest's snapshots, oldest first", tag: "simplestack",
                          success: (200, .array(.ref("Snapshot"))), errors: errors)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestSnapshots).self, operation: "snapshots")
            return JSONResponse.make(try await hv.snapshots(guestID: try guestID(context)).map(SimplestackSnapshot.init))
        }
        api.add(Operation(.post, p, id: "snapshotCreate", summary: "Take a snapshot (running or stopped guest)",
                          tag: "simplestack", body: JSONObject.schema(["name": .name()]), bodyRequired: false,
                          success: (201, .ref("Snapshot")), errors: [400, 409] + errors)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestSnapshots).self, operation: "snapshots")
            let name = try await JSONObject.read(request, required: false).string("name")
            let id = try guestID(context)
            let snapshot = try await hv.createSnapshot(guestID: id, name: name)
            return JSONResponse.make(SimplestackSnapshot(snapshot), status: .created,
                                     location: "\(base(context))/guests/\(id)/snapshots/\(Self.pathEscape(snapshot.name))")
        }
        api.add(Operation(.get, p + "/{snapshot_id}", id: "snapshotInfo", summary: "One snapshot", tag: "simplestack",
                          success: (200, .ref("Snapshot")), errors: errors, etag: true)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestSnapshots).self, operation: "snapshots")
            return JSONResponse.make(SimplestackSnapshot(
                try await hv.snapshot(guestID: try guestID(context), name: try parameter("snapshot_id", context))),
                etag: true)
        }
        api.add(Operation(.put, p + "/{snapshot_id}/revert", id: "snapshotRevert",
                          summary: "Return the guest to the snapshot", tag: "simplestack",
                          success: (200, .ref("Action")), errors: [409] + errors, ifMatch: true)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestSnapshots).self, operation: "snapshots")
            try await checkSnapshotIfMatch(request, context, hv)
            try await hv.revertSnapshot(guestID: try guestID(context), name: try parameter("snapshot_id", context))
            return JSONResponse.make(SimplestackAction(action: "revert"))
        }
        api.add(Operation(.delete, p + "/{snapshot_id}", id: "snapshotDelete", summary: "Delete a snapshot",
                          tag: "simplestack", success: (204, nil), errors: [409] + errors, ifMatch: true)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestSnapshots).self, operation: "snapshots")
            try await checkSnapshotIfMatch(request, context, hv)
            try await hv.deleteSnapshot(guestID: try guestID(context), name: try parameter("snapshot_id", context))
            return Response(status: .noContent)
        }
    }
}

extension SimplestackRoutes {
    /// Checks `If-Match` against the snapshot the path names, as its GET renders it.
    func checkSnapshotIfMatch(_ request: Request, _ context: GuesthouseContext, _ hv: any GuestSnapshots) async throws {
        let guest = try guestID(context)
        let name = try parameter("snapshot_id", context)
        try await IfMatch.check(request, "snapshot '\(name)' of guest '\(guest)'") {
            JSONResponse.body(SimplestackSnapshot(try await hv.snapshot(guestID: guest, name: name)))
        }
    }
}

/// `{id, name, state, path, created}`; `id` is the name.
struct SimplestackSnapshot: Encodable {
    var id: String
    var name: String
    var state: String
    var path: String?
    var created: String?

    init(_ s: GuestSnapshot) {
        id = s.name
        name = s.name
        state = s.state
        path = s.path
        created = s.created.map { ISO8601DateFormatter().string(from: $0) }
    }

    enum CodingKeys: String, CodingKey { case id, name, state, path, created }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(state, forKey: .state)
        try c.encode(path, forKey: .path)
        try c.encode(created, forKey: .created)
    }

    static let schema = Schema.object([
        "id": .string(description: "the snapshot's name"), "name": .string(),
        "state": .string(description: "the guest's state when taken"), "path": .nullable(.string()),
        "created": .nullable(.string(description: "ISO 8601")),
    ], required: ["id", "name", "state", "path", "created"])
}
