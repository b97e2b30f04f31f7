#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A copy of an executable in a fresh world-readable directory under `/var/tmp`, so that a user other
/// than root can run it even when the checkout is not traversable (a clone under `/root`, mode 0700).
/// `remove()` deletes the copy and its directory.
struct ReachableBinary {
    /// The directory made for the copy (mode 0755).
    let directory: String
    /// The copy (mode 0755).
    let path: String

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(copying source: String) throws {
        var template = Array("/var/tmp/guesthouse-tests-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw Failure(description: "mkdtemp under /var/tmp: errno \(errno)")
        }
        directory = String(cString: made)
        path = directory + "/" + URL(fileURLWithPath: source).lastPathComponent
        do {
            try FileManager.default.copyItem(atPath: source, toPath: path)
            guard chmod(directory, 0o755) == 0, chmod(path, 0o755) == 0 else {
                throw Failure(description: "chmod \(path): errno \(errno)")
            }
        } catch {
            remove()
            throw error
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
