import Foundation
import GuesthouseCore

/// Request bodies spooled to a file of a private scratch directory (bounded memory), and files
/// read back as the chunk streams archive readers take.
enum SpooledBody {
    /// Writes the whole body to `path` (created 0600) and returns its length.
    static func write(_ body: BodyPump, to path: String) async throws -> UInt64 {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw GuesthouseError(.internalError, "cannot write a temporary file for the upload")
        }
        defer { try? handle.close() }
        var length: UInt64 = 0
        while let chunk = try await body.next() {
            try handle.write(contentsOf: chunk)
            length += UInt64(chunk.count)
        }
        guard length > 0 else { throw GuesthouseError.invalid("the request has no body") }
        return length
    }

    /// The file's bytes in 1 MiB pieces, counted into `progress`; stops when the task is cancelled.
    static func chunks(of path: String, progress: TransferProgress) throws -> AsyncThrowingStream<[UInt8], any Error> {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GuesthouseError(.internalError, "cannot read the spooled upload")
        }
        let box = HandleBox(handle)
        return AsyncThrowingStream(unfolding: {
            try Task.checkCancellation()
            guard let data = try box.handle.read(upToCount: 1 << 20), !data.isEmpty else {
                try? box.handle.close()
                return nil
            }
            progress.add(data.count)
            return Array(data)
        })
    }

    final class HandleBox: @unchecked Sendable {
        let handle: FileHandle
        init(_ handle: FileHandle) { self.handle = handle }
        deinit { try? handle.close() }
    }
}
