import Foundation
import GuesthouseCore

/// A `multipart/form-data` body already spooled to a file, split into its parts by scanning the
/// file in 1 MiB pieces (never whole in memory). Each part is a byte range of the file.
struct MultipartSpool {
    struct Part {
        var name: String
        var filename: String?
        /// The part's content, as a range of the file.
        var start: UInt64
        var end: UInt64
    }

    let path: String
    let parts: [Part]

    /// The boundary a `Content-Type: multipart/form-data; boundary=...` names.
    static func boundary(_ contentType: String) -> String? {
        guard contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// - Throws: `invalidArguments` when the body is not well-formed multipart.
    init(path: String, boundary: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else { throw GuesthouseError.invalid("the upload is gone") }
        defer { try? handle.close() }
        let delimiter = Data("\r\n--\(boundary)".utf8)
        // Delimiter positions (of its CRLF); the body starts with the first one minus its CRLF.
        var positions: [Int64] = []
        var carry = Data("\r\n".utf8)
        var base: Int64 = -2
        while true {
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            let window = carry + chunk
            var from = window.startIndex
            while let range = window.range(of: delimiter, in: from..<window.endIndex) {
                positions.append(base + Int64(range.lowerBound - window.startIndex))
                from = range.upperBound
            }
            if chunk.isEmpty { break }
            let keep = min(window.count, delimiter.count - 1)
            base += Int64(window.count - keep)
            carry = window.suffix(keep)
        }
        // The body starts with the delimiter without its CRLF: found at -2 thanks to the CRLF put before it.
        guard positions.first == -2 else {
            throw GuesthouseError.invalid("the multipart body does not start with its boundary")
        }
        var parts: [Part] = []
        for (index, position) in positions.enumerated().dropLast() {
            let lineStart = UInt64(position + Int64(delimiter.count))
            try handle.seek(toOffset: lineStart)
            let head = try handle.read(upToCount: 16 << 10) ?? Data()
            if head.starts(with: Data("--".utf8)) { break }  // the closing delimiter
            guard let headerEnd = head.range(of: Data("\r\n\r\n".utf8)) else {
                throw GuesthouseError.invalid("a multipart part has no header end")
            }
            let headers = String(decoding: head[head.startIndex..<headerEnd.lowerBound], as: UTF8.self)
            var name: String?
            var filename: String?
            for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                for item in line.split(separator: ";").dropFirst() {
                    let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard pair.count == 2 else { continue }
                    let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    if pair[0].lowercased() == "name" { name = value }
                    if pair[0].lowercased() == "filename" { filename = value }
                }
            }
            let start = lineStart + UInt64(headerEnd.upperBound - head.startIndex)
            let end = UInt64(positions[index + 1])
            guard let name, end >= start else { throw GuesthouseError.invalid("a multipart part has no name") }
            parts.append(Part(name: name, filename: filename, start: start, end: end))
        }
        self.parts = parts
    }

    /// A small field's text (at most 64 KiB).
    func field(_ name: String) throws -> String? {
        guard let part = parts.first(where: { $0.name == name && $0.filename == nil }) else { return nil }
        guard part.end - part.start <= 64 << 10 else { throw GuesthouseError.invalid("the form field \"\(name)\" is too long") }
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        try handle.seek(toOffset: part.start)
        return String(decoding: try handle.read(upToCount: Int(part.end - part.start)) ?? Data(), as: UTF8.self)
    }

    /// Copies the first file part to `target`; returns its filename.
    func copyFile(to target: String) throws -> String? {
        guard let part = parts.first(where: { $0.filename != nil }) else {
            throw GuesthouseError.invalid("the form has no file")
        }
        guard FileManager.default.createFile(atPath: target, contents: nil, attributes: [.posixPermissions: 0o600]),
              let out = FileHandle(forWritingAtPath: target), let input = FileHandle(forReadingAtPath: path) else {
            throw GuesthouseError(.internalError, "cannot write a temporary file")
        }
        defer { try? out.close(); try? input.close() }
        try input.seek(toOffset: part.start)
        var left = part.end - part.start
        while left > 0, let chunk = try input.read(upToCount: Int(min(left, 1 << 20))), !chunk.isEmpty {
            try out.write(contentsOf: chunk)
            left -= UInt64(chunk.count)
        }
        return part.filename
    }
}
