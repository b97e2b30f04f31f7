import Foundation
import GuesthouseCore
import Hummingbird

extension SimplestackRoutes {
    func registerTags(_ api: APIRoutes<GuesthouseContext>) {
        let p = Self.prefix + "/guests/{guest_id}/tags"
        api.add(Operation(.get, p, id: "tagList", summary: "The guest's tags", tag: "simplestack",
                          success: (200, .array(.string())), errors: [403, 404, 501, 502])) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestTags).self, operation: "tags")
            return JSONResponse.make(try await hv.tags(guestID: try guestID(context)))
        }
        api.add(Operation(.post, p, id: "tagCreate", summary: "Add a tag; answers the whole list", tag: "simplestack",
                          body: JSONObject.schema(["name": .text(length: Validation.tagLength, pattern: Validation.tagPattern)],
                                                  required: ["name"]),
                          success: (201, .array(.string())), errors: [400, 403, 404, 501, 502])) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestTags).self, operation: "tags")
            let name = try await JSONObject.read(request).string("name", required: true)!
            let id = try guestID(context)
            let tags = try await hv.addTag(guestID: id, name)
            return JSONResponse.make(tags, status: .created,
                                     location: "\(base(context))/guests/\(id)/tags/\(Self.pathEscape(name))")
        }
        api.add(Operation(.delete, p + "/{tag_name}", id: "tagDelete", summary: "Remove a tag; answers the remaining list",
                          tag: "simplestack", success: (200, .array(.string())),
                          errors: [403, 404, 501, 502])) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestTags).self, operation: "tags")
            return JSONResponse.make(try await hv.removeTag(guestID: try guestID(context),
                                                            try parameter("tag_name", context)))
        }
    }

    /// Escapes one path segment for a `Location` header.
    static func pathEscape(_ segment: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }
}
