import AsyncHTTPClient
import Foundation
import GuesthouseCore
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Talks to a Guesthouse server for the CLI's transfers: exports, imports and image imports, with
/// `Prefer: respond-async` so long server-side work is followed as an operation.
public struct GuesthouseClient: Sendable {
    public let baseURL: String
    let authorization: String?
    let http: HTTPClient

    /// A failed call: the server's status and its error message.
    public struct Failure: Error, CustomStringConvertible {
        public var status: Int
        public var message: String
        public var description: String { "HTTP \(status): \(message)" }
    }

    public init(baseURL: String, username: String?, password: String?, http: HTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.authorization = username.map { "Basic " + Data("\($0):\(password ?? "")".utf8).base64EncodedString() }
        self.http = http
    }

    /// Exports a stopped guest into `file` and returns the archive's length.
    public func export(family: String, host: String, guest: String, to file: String, display: TransferDisplay) async throws -> UInt64 {
        let path = "/\(Self.segment(family))/\(Self.segment(host))/guests/\(Self.segment(guest))/export"
        var request = self.request(path, method: .GET)
        request.headers.add(name: "Prefer", value: "respond-async")
        var response = try await http.execute(request, timeout: .hours(24))
        var operation: String?
        if response.status == .accepted {
            operation = response.headers.first(name: "Location")
            let status = try await follow(response, display: display)
            guard let result = status["result"] as? String else { throw Failure(status: 500, message: "the operation has no result") }
            response = try await http.execute(self.request(result, method: .GET), timeout: .hours(24))
        }

        guard response.status == .ok else { throw try await failure(response) }
        let total = response.headers.first(name: "Content-Length").flatMap { UInt64($0) } ?? 0
        display.begin("download", total: total)
        guard FileManager.default.createFile(atPath: file, contents: nil), let out = FileHandle(forWritingAtPath: file) else {
            throw Failure(status: 0, message: "cannot write \(file)")
        }
        defer { try? out.close() }
        var done: UInt64 = 0
        for try await buffer in response.body {
            try out.write(contentsOf: Data(buffer: buffer))
            done += UInt64(buffer.readableBytes)
            display.update(done)
        }
        // The server keeps the spooled archive until the operation is deleted (or expires).
        if let operation { _ = try? await http.execute(self.request(operation, method: .DELETE), timeout: .seconds(30)) }
        display.finish("wrote \(file) (\(TransferDisplay.bytes(done)))")
        return done
    }

    /// Imports an export archive or an OVA; returns the new guest's location.
    public func importGuest(family: String, host: String, storage: String?, file: String, name: String?,
                            display: TransferDisplay) async throws -> String {
        var path = "/\(Self.segment(family))/\(Self.segment(host))"
        path += storage.map { "/storages/\(Self.segment($0))/guests" } ?? "/guests"
        if let name { path += "?name=\(Self.segment(name))" }
        return try await upload(file, to: path, contentType: "application/x-tar", display: display)
    }

    /// Imports a disk image (raw, qcow2, VMDK, VHDX) as the volume `name` of `storage`; returns its location.
    public func importImage(family: String, host: String, storage: String, name: String, file: String,
                            display: TransferDisplay) async throws -> String {
        let path = "/\(Self.segment(family))/\(Self.segment(host))/storages/\(Self.segment(storage))/images?name=\(Self.segment(name))"
        return try await upload(file, to: path, contentType: "application/octet-stream", display: display)
    }

    func upload(_ file: String, to path: String, contentType: String, display: TransferDisplay) async throws -> String {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw Failure(status: 0, message: "cannot read \(file)") }
        defer { try? handle.close() }
        let length = ScratchDirectory.size(of: file)
        var request = self.request(path, method: .POST)
        request.headers.add(name: "Prefer", value: "respond-async")
        request.headers.add(name: "Content-Type", value: contentType)
        display.begin("upload", total: length)
        let chunks = FileChunks(handle: handle, display: display)
        request.body = .stream(chunks, length: .known(Int64(length)))
        let response = try await http.execute(request, timeout: .hours(24))
        if response.status == .accepted {
            let operation = try await follow(response, display: display)
            let location = operation["location"] as? String ?? ""
            display.finish("done: \(location)")
            return location
        }
        guard response.status == .created else { throw try await failure(response) }
        let location = response.headers.first(name: "Location") ?? ""
        display.finish("done: \(location)")
        return location
    }

    /// Polls an operation (every 0.5 s) until it ends; returns its last status, or throws its error.
    func follow(_ accepted: HTTPClientResponse, display: TransferDisplay) async throws -> [String: Any] {
        guard let location = accepted.headers.first(name: "Location") else {
            throw Failure(status: 202, message: "the server started an operation but did not say where")
        }
        _ = try await accepted.body.collect(upTo: 1 << 20)
        var began = false
        while true {
            let response = try await http.execute(request(location, method: .GET), timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok,
                  let status = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any] else {
                throw Failure(status: Int(response.status.code), message: String(buffer: body))
            }
            let done = (status["bytes_done"] as? NSNumber)?.uint64Value ?? 0
            let total = (status["bytes_total"] as? NSNumber)?.uint64Value ?? 0
            if !began {
                display.begin("server \(status["kind"] as? String ?? "operation")", total: total)
                began = true
            }
            display.update(done, total: total)
            switch status["state"] as? String {
            case "succeeded": return status
            case "running": try await Task.sleep(for: .milliseconds(500))
            default:
                let error = status["error"] as? [String: Any]
                throw Failure(status: 0, message: "the operation \(status["state"] as? String ?? "ended"): "
                              + "\(error?["message"] as? String ?? "no reason given")")
            }
        }
    }

    func request(_ path: String, method: HTTPMethod) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let authorization { request.headers.add(name: "Authorization", value: authorization) }
        return request
    }

    func failure(_ response: HTTPClientResponse) async throws -> Failure {
        let body = try await response.body.collect(upTo: 1 << 20)
        let object = try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
        let message = object?["message"] as? String ?? object?["Error"] as? String ?? String(buffer: body)
        return Failure(status: Int(response.status.code), message: message)
    }

    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?&=#"))) ?? text
    }
}

/// A file read in 1 MiB pieces as a request body, counted into a display.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let handle: FileHandle
    let display: TransferDisplay

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle
        let display: TransferDisplay
        var done: UInt64 = 0
        mutating func next() async throws -> ByteBuffer? {
            guard let data = try handle.read(upToCount: 1 << 20), !data.isEmpty else { return nil }
            done += UInt64(data.count)
            display.update(done)
            return ByteBuffer(data: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: handle, display: display) }
}
