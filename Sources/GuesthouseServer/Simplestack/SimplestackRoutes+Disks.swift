import Foundation
import GuesthouseCore
import Hummingbird

extension SimplestackRoutes {
    func registerDisks(_ api: APIRoutes<GuesthouseContext>) {
        let p = Self.prefix + "/guests/{guest_id}/disks"
        let errors = [403, 404, 501, 502]
        api.add(Operation(.get, p, id: "diskList", summary: "The guest's disks", tag: "simplestack",
                          success: (200, .array(.ref("Disk"))), errors: errors)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestDisks).self, operation: "disks")
            return JSONResponse.make(try await hv.disks(guestID: try guestID(context)).map(SimplestackDisk.init))
        }
        api.add(Operation(.post, p, id: "diskCreate", summary: "Create a volume and attach it as a new disk",
                          tag: "simplestack",
                          body: JSONObject.schema([
                              "size": .bounded(Validation.diskGiB, description: "GiB"),
                              "pool": .name(description: "storage id or name; default: the first disk's"),
                              "storage": .name(description: "the same as pool (when pool is absent)"),
                              "format": .string(enumeration: DiskSpec.formats)], required: ["size"]),
                          success: (201, .ref("Disk")), errors: [400, 409] + errors)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestDisks).self, operation: "disks")
            let o = try await JSONObject.read(request)
            let spec = DiskSpec(sizeGiB: try o.int("size", required: true)!,
                                pool: try o.string("pool") ?? o.string("storage"), format: try o.string("format"))
            let id = try guestID(context)
            let disk = try await withinQuota({ QuotaUsage(diskGiB: spec.sizeGiB) }) { try await hv.createDisk(guestID: id, spec) }
            return JSONResponse.make(SimplestackDisk(disk), status: .created,
                                     location: "\(base(context))/guests/\(id)/disks/\(Self.pathEscape(disk.id))")
        }
        api.add(Operation(.get, p + "/{disk_id}", id: "diskInfo", summary: "One disk (by target, volume name or number)",
                          tag: "simplestack", success: (200, .ref("Disk")), errors: errors, etag: true)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestDisks).self, operation: "disks")
            return JSONResponse.make(SimplestackDisk(
                try await hv.disk(guestID: try guestID(context), diskID: try parameter("disk_id", context))), etag: true)
        }
        api.add(Operation(.put, p + "/{disk_id}", id: "diskUpdate",
                          summary: "Grow a disk ({\"size\": GiB}) or rename its volume ({\"name\"}, stopped guests)",
                          tag: "simplestack",
                          body: JSONObject.schema(["size": .bounded(Validation.diskGiB, description: "GiB; shrinking is a 409"),
                                                   "name": .name()]),
                          success: (200, .ref("Disk")), errors: [400, 409] + errors, ifMatch: true)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestDisks).self, operation: "disks")
            let o = try await JSONObject.read(request)
            try await checkDiskIfMatch(request, context, hv)
            let (guest, diskID, size) = (try guestID(context), try parameter("disk_id", context), try o.int("size"))
            let disk = try await withinQuota({
                QuotaUsage.diskGrowth(from: try await hv.disk(guestID: guest, diskID: diskID).capacityBytes, to: size)
            }) {
                try await hv.updateDisk(guestID: guest, diskID: diskID, sizeGiB: size, name: try o.string("name"))
            }
            return JSONResponse.make(SimplestackDisk(disk))
        }
        api.add(Operation(.delete, p + "/{disk_id}", id: "diskDelete", summary: "Detach a disk and delete its volume",
                          tag: "simplestack", success: (204, nil), errors: [409] + errors, ifMatch: true)) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestDisks).self, operation: "disks")
            try await checkDiskIfMatch(request, context, hv)
            try await hv.deleteDisk(guestID: try guestID(context), diskID: try parameter("disk_id", context))
            return Response(status: .noContent)
        }
    }
}

extension SimplestackRoutes {
    /// Checks `If-Match` against the disk the path names, as its GET renders it.
    func checkDiskIfMatch(_ request: Request, _ context: GuesthouseContext, _ hv: any GuestDisks) async throws {
        let guest = try guestID(context)
        let disk = try parameter("disk_id", context)
        try await IfMatch.check(request, "disk '\(disk)' of guest '\(guest)'") {
            JSONResponse.body(SimplestackDisk(try await hv.disk(guestID: guest, diskID: disk)))
        }
    }
}

/// `{id, name, number, size (GiB), extra_info}`
struct SimplestackDisk: Encodable {
    struct Extra: Encodable {
        var path: String?
        var pool: String?
        var bus: String
        var format: String?
        var size_bytes: UInt64?
    }
    var id: String
    var name: String
    var number: Int
    var size: Double?
    var extra_info: Extra

    init(_ d: GuestDiskInfo) {
        id = d.id
        name = d.name
        number = d.number
        size = d.capacityBytes.map { (Double($0) / 1_073_741_824.0 * 100).rounded() / 100 }
        extra_info = Extra(path: d.path, pool: d.pool, bus: d.bus, format: d.format, size_bytes: d.capacityBytes)
    }

    enum CodingKeys: String, CodingKey { case id, name, number, size, extra_info }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(name, forKey: .name)
        try c.encode(number, forKey: .number)
        try c.encode(size, forKey: .size)
        try c.encode(extra_info, forKey: .extra_info)
    }

    static let schema = Schema.object([
        "id": .string(description: "target device, e.g. vda"), "name": .string(description: "volume name"),
        "number": .integer(), "size": .nullable(.number(description: "GiB")),
        "extra_info": .object(["path": .nullable(.string()), "pool": .nullable(.string()), "bus": .string(),
                               "format": .nullable(.string()), "size_bytes": .nullable(.integer())]),
    ], required: ["id", "name", "number", "size", "extra_info"])
}
