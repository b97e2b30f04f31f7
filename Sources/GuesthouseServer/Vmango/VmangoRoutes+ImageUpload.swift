import Foundation
import GuesthouseCore
import Hummingbird

/// `POST /api/images/`: an image file (multipart form with fields `provider`, `name` and a file,
/// or the raw body with `?provider=&name=`) becomes a volume of the provider's image pool. The
/// name must parse as `{OS}-{Version}_{arch}_{format}.img`; the format it names is the volume's.
extension VmangoRoutes {
    func registerImageUpload(_ api: APIRoutes<GuesthouseContext>) {
        var upload = Operation(.post, "/api/images/", id: "imageUpload",
                               summary: "Upload an image (raw, qcow2, VMDK or VHDX; multipart with provider, name and "
                                   + "a file, or the raw body with ?provider=&name=) into a provider's image pool",
                               tag: "vmango", body: .binary, success: (201, .ref("Image")), errors: [400, 409, 502])
        upload.requestMediaType = "application/octet-stream"
        upload.queryParameters = [("provider", "the provider whose image pool receives the image"),
                                  ("name", "the image's vmango name, {OS}-{Version}_{arch}_{format}.img")]
        upload.acceptsAsync = true
        // The raw body's form (the one documented) takes both from the query.
        upload.requiredQueryParameters = ["provider", "name"]
        upload.parameterSchemas = [
            "provider": providers.providerNames.isEmpty ? .string()
                : .string(enumeration: providers.providerNames.sorted()),
            "name": .text(length: 1...Validation.nameMaxLength, pattern: MachineImage.Name.pattern),
        ]
        upload.errors += [404, 501]
        api.add(upload) { request, _ in
            _ = try await user(request)
            guard let uploads = providers as? any MachineImageUploads else {
                throw GuesthouseError.notImplemented("these providers take no image uploads")
            }
            let scratch = try ScratchDirectory(label: "guesthouse-image-upload")
            do {
                var provider = request.uri.queryParameters.get("provider")
                var name = request.uri.queryParameters.get("name")
                let body = scratch.file("body")
                _ = try await SpooledBody.write(BodyPump(request.body), to: body)
                var image = body
                if let boundary = MultipartSpool.boundary(request.headers[.contentType] ?? "") {
                    let form = try MultipartSpool(path: body, boundary: boundary)
                    provider = try form.field("provider") ?? provider
                    image = scratch.file("image")
                    let filename = try form.copyFile(to: image)
                    name = try form.field("name") ?? name ?? filename
                    try? FileManager.default.removeItem(atPath: body)
                }
                guard let provider, !provider.isEmpty else { throw GuesthouseError.invalid("\"provider\" is required") }
                guard let name, !name.isEmpty else { throw GuesthouseError.invalid("\"name\" is required") }
                let parsed = try MachineImage.Name(parsing: name)
                try Validation.name(name, field: "image name")
                let (volumes, pool) = try uploads.imageUploadTarget(provider: provider)
                let importer = DiskImageImport(volumes: volumes)
                let location = "/api/images/"
                let imageFile = image
                if AsyncPreference.requested(request) {
                    return try await AsyncPreference.start(operations, request: request, kind: "image upload",
                                                           scratch: scratch) { progress in
                        let volume = try await importer.run(file: imageFile, name: name, storage: pool,
                                                            format: parsed.format.name, progress: progress)
                        return OperationOutcome(location: location, undo: { await volumes.removeImageVolume(volume) })
                    }
                }
                defer { scratch.remove() }
                let volume = try await importer.run(file: imageFile, name: name, storage: pool, format: parsed.format.name,
                                                    progress: TransferProgress())
                let made = MachineImage(id: volume.name, os: parsed.os, arch: parsed.arch, size: volume.capacity,
                                        format: parsed.format, date: "", poolName: volume.pool)
                return JSONResponse.make(made, status: .created, location: location)
            } catch {
                scratch.remove()
                throw error
            }
        }
    }
}
