import Foundation
import GuesthouseCore
import Hummingbird
import Logging

extension SimplestackRoutes {
    func registerExport(_ api: APIRoutes<GuesthouseContext>) {
        var export = Operation(.get, Self.prefix + "/guests/{guest_id}/export", id: "guestExport",
                               summary: "Stream an archive (tar: guesthouse.json, domain.xml, every disk) of a stopped guest",
                               tag: "simplestack", success: (200, .binary), errors: [403, 404, 409, 501, 502])
        export.successMediaType = "application/x-tar"
        export.acceptsAsync = true
        api.add(export) { request, context in
            let hv = try await hypervisor(request, context, as: (any GuestArchiving).self, operation: "export")
            let archive = try await hv.exportGuest(guestID: try guestID(context))
            if AsyncPreference.requested(request) { return try await exportAsync(archive, request) }
            return archive.download(logger: context.logger)
        }
        var importInto = Operation(.post, Self.prefix + "/storages/{storage_id}/guests", id: "guestImport",
                                   summary: "Import an export archive (the raw body, whatever its content type) into this storage",
                                   tag: "simplestack", body: .binary, success: (201, .ref("Guest")),
                                   errors: [400, 403, 404, 409, 501, 502])
        importInto.requestMediaType = "application/octet-stream"
        importInto.queryParameters = [("name", "the new guest's name (default: the archive's, or the OVF's)")]
        importInto.parameterSchemas = ["name": .name()]
        importInto.acceptsAsync = true
        api.add(importInto) { request, context in
            let hv = try await hypervisor(request, context)
            let storage = try parameter("storage_id", context)
            // A Guesthouse export or an OVA (SimplestackRoutes+Images).
            return try await importUpload(hv, request, context, storage: storage, body: BodyPump(request.body))
        }
    }
}

extension GuestExport {
    /// The archive as a `.tar` download, streamed as it is written (the Simplestack export route and
    /// the web UI's export link answer with it), its progress logged every 10%.
    func download(logger: Logger) -> Response {
        let archive = self
        let body = ResponseBody(contentLength: Int(length)) { writer in
            let box = WriterBox(writer)
            let progress = Progress(total: archive.length, what: "export of \(archive.name)", logger: logger)
            try await archive.write { chunk in
                try await box.writer.write(ByteBuffer(bytes: chunk))
                progress.add(chunk.count)
            }
            writer = box.writer
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/x-tar",
                                               .contentDisposition: "attachment; filename=\"\(name).tar\""],
                        body: body)
    }
}

/// Lets the export's writer be used from the archive's sink closure (the body closure owns it
/// `inout`; the box lives only while that closure runs).
final class WriterBox: @unchecked Sendable {
    var writer: any ResponseBodyWriter
    init(_ writer: any ResponseBodyWriter) { self.writer = writer }
}

/// A request body read on demand: the first bytes can be looked at (to tell an archive from
/// JSON) and then the whole body read as a stream, pulled piece by piece (no buffering ahead).
final class BodyPump: @unchecked Sendable {
    private var iterator: RequestBody.AsyncIterator
    private var pending: [[UInt8]] = []

    init(_ body: RequestBody) { iterator = body.makeAsyncIterator() }

    /// At least `count` bytes from the start of the body (fewer when it is shorter), not consumed.
    func peek(_ count: Int) async throws -> [UInt8] {
        var have = pending.reduce(0) { $0 + $1.count }
        while have < count, let buffer = try await iterator.next() {
            pending.append(Array(buffer: buffer))
            have += buffer.readableBytes
        }
        return Array(pending.joined().prefix(count))
    }

    func next() async throws -> [UInt8]? {
        if !pending.isEmpty { return pending.removeFirst() }
        return try await iterator.next().map { Array(buffer: $0) }
    }

    /// The rest of the body, whole, up to `limit` bytes.
    func collect(upTo limit: Int) async throws -> Data {
        var data = Data()
        while let chunk = try await next() {
            data.append(contentsOf: chunk)
            if data.count > limit { throw HTTPError(.contentTooLarge) }
        }
        return data
    }

    func stream() -> AsyncThrowingStream<[UInt8], any Error> {
        AsyncThrowingStream(unfolding: { try await self.next() })
    }
}

/// Logs a long transfer's progress every 10%.
final class Progress: @unchecked Sendable {
    private let total: UInt64
    private let what: String
    private let logger: Logger
    private var done: UInt64 = 0
    private var lastDecile: UInt64 = 0

    init(total: UInt64, what: String, logger: Logger) {
        self.total = max(total, 1)
        self.what = what
        self.logger = logger
        logger.info("\(what): starting, \(total) bytes")
    }

    func add(_ bytes: Int) {
        done += UInt64(bytes)
        let decile = done * 10 / total
        if decile > lastDecile {
            lastDecile = decile
            logger.info("\(what): \(decile * 10)% (\(done) of \(total) bytes)")
        }
    }
}
