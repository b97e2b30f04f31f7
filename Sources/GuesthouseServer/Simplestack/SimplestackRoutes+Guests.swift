import Foundation
import GuesthouseCore
import Hummingbird

extension SimplestackRoutes {
    func registerGuests(_ api: APIRoutes<GuesthouseContext>) {
        let p = Self.prefix + "/guests"
        api.add(Operation(.get, p, id: "guestList", summary: "Every guest", tag: "simplestack",
                          success: (200, .array(.ref("Guest"))), errors: [403, 404, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            let host = host(context)
            return SimplestackGuest.listResponse(try await hv.guests().map { SimplestackGuest(guest: $0, host: host) })
        }
        api.add(Operation(.post, p, id: "guestCreate",
                          summary: "Create a guest (JSON body); an export archive as body imports it instead",
                          tag: "simplestack", body: SimplestackRequests.guestSpecSchema,
                          success: (201, .ref("Guest")), errors: [400, 403, 404, 409, 501, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            let body = BodyPump(request.body)
            let guest: Guest
            if ArchiveSniffer.looksLikeArchive(Data(try await body.peek(262))) {
                guest = try await importArchive(hv, storage: nil, body: body, context: context)
            } else {
                let spec = try SimplestackRequests.guestSpec(try JSONObject.parse(try await body.collect(upTo: JSONObject.maxBody)))
                guest = try await hv.createGuest(spec)
            }
            return SimplestackGuest(guest: guest, host: host(context))
                .response(status: .created, location: "\(base(context))/guests/\(guest.id)")
        }
        api.add(Operation(.get, p + "/{guest_id}", id: "guestInfo", summary: "One guest", tag: "simplestack",
                          success: (200, .ref("Guest")), errors: [403, 404, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            let guest = try await hv.guest(id: try parameter("guest_id", context))
            return SimplestackGuest(guest: guest, host: host(context)).response()
        }
        api.add(Operation(.put, p + "/{guest_id}", id: "guestUpdate", summary: "Change name, memory, cpus",
                          tag: "simplestack", body: SimplestackRequests.guestUpdateSchema,
                          success: (200, .ref("Guest")), errors: [400, 403, 404, 409, 501, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            let update = try SimplestackRequests.guestUpdate(try await JSONObject.read(request))
            let guest = try await hv.updateGuest(id: try parameter("guest_id", context), update)
            return SimplestackGuest(guest: guest, host: host(context)).response()
        }
        api.add(Operation(.delete, p + "/{guest_id}", id: "guestDelete",
                          summary: "Delete a guest (stopped first) and its disks", tag: "simplestack",
                          success: (204, nil), errors: [403, 404, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            try await hv.deleteGuest(id: try parameter("guest_id", context))
            return Response(status: .noContent)
        }
        api.add(Operation(.put, p + "/{guest_id}/power", id: "guestPower",
                          summary: "start, stop (graceful), force_stop, pause or resume", tag: "simplestack",
                          body: SimplestackRequests.powerSchema, success: (200, .ref("Action")),
                          errors: [400, 403, 404, 409, 501, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            let action = try SimplestackRequests.powerAction(try await JSONObject.read(request))
            try await hv.power(id: try parameter("guest_id", context), action)
            return JSONResponse.make(SimplestackAction(action: action.rawValue))
        }
        api.add(Operation(.put, p + "/{guest_id}/reboot", id: "guestReboot",
                          summary: "Reboot; {\"force\": true} resets at once", tag: "simplestack",
                          body: .object(["force": .boolean()]), bodyRequired: false, success: (200, .ref("Action")),
                          errors: [400, 403, 404, 409, 501, 502])) { request, context in
            let hv = try await hypervisor(request, context)
            let force = try await JSONObject.read(request, required: false).bool("force") ?? false
            try await hv.reboot(id: try parameter("guest_id", context), force: force)
            return JSONResponse.make(SimplestackAction(action: "reboot"))
        }
    }
}

/// Tells an export archive from a JSON body by its first bytes, whatever the content type says.
enum ArchiveSniffer {
    static func looksLikeArchive(_ data: Data) -> Bool {
        if data.count >= 2, data[data.startIndex] == 0x1F, data[data.startIndex + 1] == 0x8B { return true }  // gzip
        if data.count >= 262 {
            let magic = data[(data.startIndex + 257)..<(data.startIndex + 262)]
            if Array(magic) == Array("ustar".utf8) { return true }  // tar
        }
        return false
    }
}
