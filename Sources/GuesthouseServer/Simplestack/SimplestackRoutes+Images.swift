import Foundation
import GuesthouseCore
import Hummingbird
import Logging

/// `POST .../storages/{id}/images`: a raw, qcow2, VMDK or VHDX file becomes a volume of the pool.
extension SimplestackRoutes {
    static let imageVolumeSchema: Schema = .object([
        "name": .string(), "storage": .string(), "format": .string(enumeration: ["raw", "qcow2"]),
        "capacity": .integer(description: "bytes the guest sees"),
    ], required: ["name", "storage", "format", "capacity"])

    func registerImages(_ api: APIRoutes<GuesthouseContext>) {
        var upload = Operation(.post, Self.prefix + "/storages/{storage_id}/images", id: "imageImport",
                               summary: "Import a raw, qcow2, VMDK (also streamOptimized) or VHDX image (the raw body) "
                                   + "as the volume `name` of this storage, converted with qemu-img to the pool's format; "
                                   + "`Prefer: respond-async` answers 202 with an operation",
                               tag: "simplestack", body: .binary, success: (201, .ref("ImageVolume")),
                               errors: [400, 403, 404, 409, 501, 502])
        upload.requestMediaType = "application/octet-stream"
        upload.queryParameters = [("name", "the new volume's name")]
        upload.requiredQueryParameters = ["name"]
        upload.parameterSchemas = ["name": .name()]
        upload.acceptsAsync = true
        api.add(upload) { request, context in
            let hv = try await hypervisor(request, context, as: (any ImageVolumes).self, operation: "image import")
            let storage = try parameter("storage_id", context)
            guard let name = request.uri.queryParameters.get("name") else {
                throw GuesthouseError.invalid("the query parameter \"name\" (the new volume's name) is required")
            }
            try Validation.name(name)
            _ = try await hv.imagePool(storage)  // an unknown pool is a 404 before the upload is read
            let location = "\(base(context))/storages/\(storage)/images/\(name)"
            let scratch = try ScratchDirectory(label: "guesthouse-upload")
            let file = scratch.file("upload")
            let importer = DiskImageImport(volumes: hv)
            do {
                _ = try await SpooledBody.write(BodyPump(request.body), to: file)
                if AsyncPreference.requested(request) {
                    return try await AsyncPreference.start(operations, request: request, kind: "image import",
                                                           scratch: scratch) { progress in
                        let volume = try await importer.run(file: file, name: name, storage: storage, progress: progress)
                        return OperationOutcome(location: location, undo: { await hv.removeImageVolume(volume) })
                    }
                }
                defer { scratch.remove() }
                let volume = try await importer.run(file: file, name: name, storage: storage, progress: TransferProgress())
                return JSONResponse.make(ImageVolumeBody(volume), status: .created, location: location)
            } catch {
                scratch.remove()
                throw error
            }
        }
        api.add(Operation(.get, Self.prefix + "/storages/{storage_id}/images/{image_id}", id: "imageInfo",
                          summary: "A volume of this storage as an image import made it", tag: "simplestack",
                          success: (200, .ref("ImageVolume")), errors: [403, 404, 501, 502])) { request, context in
            let hv = try await hypervisor(request, context, as: (any ImageVolumes).self, operation: "image info")
            let volume = try await hv.imageVolume(pool: try parameter("storage_id", context), name: try parameter("image_id", context))
            return JSONResponse.make(ImageVolumeBody(volume))
        }
    }

    /// The answer to an archive posted to `.../guests` or `.../storages/{id}/guests`: an OVA
    /// (`Content-Type: application/ova`, or a tar whose first member is `*.ovf`) becomes a guest
    /// through `OVAImport`, anything else is a Guesthouse export for `importGuest`. With
    /// `Prefer: respond-async` the body is spooled first and an operation does the rest.
    func importUpload(_ hv: any Hypervisor, _ request: Request, _ context: GuesthouseContext, storage: String?,
                      body: BodyPump) async throws -> Response {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let firstBlock = try await body.peek(Tar.blockSize)
        let isOVA = contentType.contains("application/ova") || contentType.contains("ovf") || OVASniffer.looksLikeOVA(firstBlock)
        let name = try request.uri.queryParameters.get("name").map { value -> String in
            try Validation.name(value)
            return value
        }
        let base = base(context)
        let host = host(context)
        let respond: @Sendable (Guest) -> Response = { guest in
            SimplestackGuest(guest: guest, host: host).response(status: .created, location: "\(base)/guests/\(guest.id)")
        }
        let run: @Sendable (AsyncThrowingStream<[UInt8], any Error>, TransferProgress) async throws -> Guest
        if isOVA {
            guard let volumes = hv as? any ImageVolumes else {
                throw GuesthouseError.notImplemented("OVA import is not supported on the \(context.parameters.get("hypervisor") ?? "") family")
            }
            run = { archive, progress in
                try await OVAImport(volumes: volumes, warn: { [logger = context.logger] in logger.warning("\($0)") })
                    .run(archive: archive, storage: storage, name: name, progress: progress)
            }
        } else {
            guard let archiving = hv as? any GuestArchiving else {
                throw GuesthouseError.notImplemented("import is not supported on the \(context.parameters.get("hypervisor") ?? "") family")
            }
            run = { archive, _ in try await archiving.importGuest(storage: storage, archive: archive) }
        }
        guard AsyncPreference.requested(request) else {
            return respond(try await run(body.stream(), TransferProgress()))
        }
        let scratch = try ScratchDirectory(label: "guesthouse-upload")
        let file = scratch.file("upload")
        do {
            let length = try await SpooledBody.write(body, to: file)
            return try await AsyncPreference.start(operations, request: request, kind: isOVA ? "ova import" : "guest import",
                                                   total: length, scratch: scratch) { progress in
                let guest = try await run(try SpooledBody.chunks(of: file, progress: progress), progress)
                return OperationOutcome(location: "\(base)/guests/\(guest.id)",
                                        undo: { try? await hv.deleteGuest(id: guest.id) })
            }
        } catch {
            scratch.remove()
            throw error
        }
    }
}

/// The wire shape of an imported image's volume.
struct ImageVolumeBody: Encodable {
    var name: String
    var storage: String
    var format: String
    var capacity: UInt64

    init(_ volume: ImageVolume) {
        name = volume.name
        storage = volume.pool
        format = volume.format
        capacity = volume.capacity
    }
}
