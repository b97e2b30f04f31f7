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
            return SimplestackGuest.listResponse(try await hv.guests().map { SimplestackGuest(guest: $0, host: host) },
                                                 rendered: rendered)
        }
        api.add(Operation(.post, p, id: "guestCreate",
                          summary: "Create a guest (JSON body); an export archive as body imports it instead",
                          tag: "simplestack", body: SimplestackRequests.guestSpecSchema,
                          success: (201, .ref("Guest")), errors: [400, 403, 404, 409, 501, 502]).acceptingAsync()) { request, context in
            let hv = try await hypervisor(request, context)
            let body = BodyPump(request.body)
            let guest: Guest
            if ArchiveSniffer.looksLikeArchive(Data(try await body.peek(262))) {
                // A Guesthouse export or an OVA (SimplestackRoutes+Images).
                return try await importUpload(hv, request, context, storage: nil, body: body)
            } else {
                var spec = try SimplestackRequests.guestSpec(try JSONObject.parse(try await body.collect(upTo: JSONObject.maxBody)))
                spec.creator = RequestOrigin.current?.principal?.user
                guest = try await withinQuota({
                    QuotaUsage(machines: 1, cpus: spec.cpus, memoryMiB: spec.memoryMiB, diskGiB: spec.hddGiB ?? 0)
                }) { try await hv.createGuest(spec) }
            }
            return SimplestackGuest(guest: guest, host: host(context))
                .response(status: .created, location: "\(base(context))/guests/\(guest.id)")
        }
        api.add(Operation(.get, p + "/{guest_id}", id: "guestInfo", summary: "One guest", tag: "simplestack",
                          success: (200, .ref("Guest")), errors: [403, 404, 502], etag: true)) { request, context in
            let hv = try await hypervisor(request, context)
            let guest = try await hv.guest(id: try parameter("guest_id", context))
            return SimplestackGuest(guest: guest, host: host(context)).response(etag: true, rendered: rendered)
        }
        api.add(Operation(.put, p + "/{guest_id}", id: "guestUpdate", summary: "Change name, memory, cpus",
                          tag: "simplestack", body: SimplestackRequests.guestUpdateSchema,
                          success: (200, .ref("Guest")), errors: [400, 403, 404, 409, 501, 502], ifMatch: true)) { request, context in
            let hv = try await hypervisor(request, context)
            let update = try SimplestackRequests.guestUpdate(try await JSONObject.read(request))
            try await checkGuestIfMatch(request, context, hv)
            let id = try parameter("guest_id", context)
            let guest = try await withinQuota({ Self.growth(of: try await hv.guest(id: id), by: update) }) {
                try await hv.updateGuest(id: id, update)
            }
            return SimplestackGuest(guest: guest, host: host(context)).response()
        }
        api.add(Operation(.delete, p + "/{guest_id}", id: "guestDelete",
                          summary: "Delete a guest (stopped first) and its disks", tag: "simplestack",
                          success: (204, nil), errors: [403, 404, 409, 502], ifMatch: true)) { request, context in
            let hv = try await hypervisor(request, context)
            try await checkGuestIfMatch(request, context, hv)
            try await hv.deleteGuest(id: try parameter("guest_id", context))
            return Response(status: .noContent)
        }
        api.add(Operation(.put, p + "/{guest_id}/power", id: "guestPower",
                          summary: "start, stop (graceful: answers once the guest is off, 409 when it is not within the timeout), force_stop, pause or resume",
                          tag: "simplestack",
                          body: SimplestackRequests.powerSchema, success: (200, .ref("Action")),
                          errors: [400, 403, 404, 409, 501, 502], ifMatch: true)) { request, context in
            let hv = try await hypervisor(request, context)
            let body = try await JSONObject.read(request)
            let action = try SimplestackRequests.powerAction(body)
            let timeout = try SimplestackRequests.stopTimeout(body)
            try await checkGuestIfMatch(request, context, hv)
            try await hv.power(id: try parameter("guest_id", context), action, stopTimeout: timeout)
            return JSONResponse.make(SimplestackAction(action: action.rawValue))
        }
        api.add(Operation(.put, p + "/{guest_id}/reboot", id: "guestReboot",
                          summary: "Reboot; {\"force\": true} resets at once", tag: "simplestack",
                          body: JSONObject.schema(["force": .boolean()]), bodyRequired: false, success: (200, .ref("Action")),
                          errors: [400, 403, 404, 409, 501, 502], ifMatch: true)) { request, context in
            let hv = try await hypervisor(request, context)
            let force = try await JSONObject.read(request, required: false).bool("force") ?? false
            try await checkGuestIfMatch(request, context, hv)
            try await hv.reboot(id: try parameter("guest_id", context), force: force)
            return JSONResponse.make(SimplestackAction(action: "reboot"))
        }
    }
}

extension SimplestackRoutes {
    /// Checks `If-Match` against the guest the path names, as `GET .../guests/{id}` renders it.
    func checkGuestIfMatch(_ request: Request, _ context: GuesthouseContext, _ hv: any Hypervisor) async throws {
        let id = try parameter("guest_id", context)
        try await IfMatch.check(request, "guest '\(id)'") {
            Data(SimplestackGuest(guest: try await hv.guest(id: id), host: host(context)).json.utf8)
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
