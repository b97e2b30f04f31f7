import Foundation

/// A private (0700) directory for the temporary files of one transfer, made with `mkdtemp` so no
/// other user can place or swap files in it. Remove it with `remove()` (callers do so in `defer`).
public struct ScratchDirectory: Sendable {
    /// The directory's absolute path.
    public let path: String

    /// Makes a fresh directory under `parent` (the system's temporary directory by default).
    /// - Throws: `GuesthouseError` (internal) when it cannot be made.
    public init(parent: String? = nil, label: String = "guesthouse") throws {
        let base = parent ?? (ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/var/tmp")
        var template = Array("\(base)/\(label)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else {
            throw GuesthouseError(.internalError, "cannot make a temporary directory under \(base): errno \(errno)")
        }
        path = String(cString: template)
        chmod(path, 0o700)
    }

    /// The path of a file in the directory; `name` is chosen by the server, never by a client.
    public func file(_ name: String) -> String { path + "/" + name }

    /// The length of the file at `path` in bytes (0 when it cannot be read).
    public static func size(of path: String) -> UInt64 {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// Removes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
