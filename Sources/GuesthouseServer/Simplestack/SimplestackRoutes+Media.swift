import Foundation
import GuesthouseCore
import Hummingbird

extension SimplestackRoutes {
    func registerMedia(_ api: APIRoutes<GuesthouseContext>) {
        let p = Self.prefix + "/guests/{guest_id}/media_device"
        let schema = Schema.object(["name": .nullable(.string(description: "the mounted image, null when empty"))],
                                   required: ["name"])
        let change = Schema.object(["name": .nullable(.text(description: "a volume of a storage pool; null ejects",
                                                            length: 1...Int.max, pattern: "^[^\\u0000]*$"))],
                                   required: ["name"])
        api.add(Operation(.get, p, id: "mediaInfo", summary: "The image in the CD-ROM drive", tag: "simplestack",
                          success: (200, schema), errors: [403, 404, 501, 502])) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestMedia).self, operation: "media device")
            return JSONResponse.make(MediaBody(name: try await hv.mediaDevice(guestID: try guestID(context))))
        }
        api.add(Operation(.put, p, id: "mediaUpdate",
                          summary: "Mount an ISO volume from a storage pool ({\"name\": \"file.iso\"}) or eject ({\"name\": null})",
                          tag: "simplestack", body: change, success: (200, schema),
                          errors: [400, 403, 404, 409, 501, 502])) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestMedia).self, operation: "media device")
            let o = try await JSONObject.read(request)
            guard o.has("name") else { throw GuesthouseError.invalid("\"name\" is required (null ejects)") }
            let name = try await hv.setMediaDevice(guestID: try guestID(context), name: try o.string("name"))
            return JSONResponse.make(MediaBody(name: name))
        }
    }

    func registerClone(_ api: APIRoutes<GuesthouseContext>) {
        api.add(Operation(.post, Self.prefix + "/guests/{guest_id}/clone", id: "guestClone",
                          summary: "Clone a stopped guest with copies of its disks", tag: "simplestack",
                          body: JSONObject.schema(["name": .name()], required: ["name"]),
                          success: (201, .ref("Guest")), errors: [400, 403, 404, 409, 501, 502],
                          ifMatch: true).acceptingAsync()) { request, context in
            let plain = try await hypervisor(request, context)
            guard let hv = plain as? any GuestCloning else {
                throw GuesthouseError.notImplemented("clone is not supported on the \(context.parameters.get("hypervisor") ?? "") family")
            }
            let name = try await JSONObject.read(request).string("name", required: true)!
            try await checkGuestIfMatch(request, context, plain)
            let source = try guestID(context)
            let copy = { Self.usage(of: try await plain.guest(id: source)) }
            if AsyncPreference.requested(request) {
                // A clone that runs as an operation is checked when it starts.
                try await withinQuota(copy) {}
                return try await cloneAsync(hv, request, context, name: name)
            }
            let guest = try await withinQuota(copy) { try await hv.cloneGuest(guestID: source, name: name) }
            return JSONResponse.make(SimplestackGuest(guest: guest, host: host(context)), status: .created,
                                     location: "\(base(context))/guests/\(guest.id)")
        }
    }
}

/// `{"name": image-or-null}`
struct MediaBody: Encodable {
    var name: String?
    enum CodingKeys: String, CodingKey { case name }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
    }
}
