import Foundation

/// Debian's `qemu-img`, run with argument arrays (never a shell). A cancelled task terminates it.
public struct QemuImg: Sendable {
    /// The executable; `qemu-img` from `PATH` by default.
    public var executable: String

    public init(executable: String? = nil) {
        self.executable = executable ?? Self.find("qemu-img") ?? "/usr/bin/qemu-img"
    }

    /// What `qemu-img info` says about an image.
    public struct Info: Sendable, Equatable {
        /// "raw", "qcow2", "vmdk", "vhdx", ...
        public var format: String
        /// What the guest sees, in bytes.
        public var virtualSize: UInt64
        /// The file's format-specific subformat when it says one (e.g. VMDK's "streamOptimized").
        public var subformat: String?
        /// A backing file the image names (an import refuses those).
        public var backingFile: String?
        /// Files other than the image itself that it reads (VMDK extents).
        public var otherFiles: [String]
    }

    /// The formats an image import takes.
    public static let importable: Set<String> = ["raw", "qcow2", "vmdk", "vhdx"]

    /// Reads `path`'s format and virtual size (`qemu-img info --output=json`).
    /// - Throws: `invalidArguments` when qemu-img cannot read it as an image.
    public func info(_ path: String) async throws -> Info {
        // qemu's advice for untrusted images: probe them under a memory and CPU limit.
        let output = try await run(["info", "--output=json", "--", path], failure: "the file is not a disk image qemu-img can read",
                                   limited: true)
        guard let object = try? JSONSerialization.jsonObject(with: output) as? [String: Any],
              let format = object["format"] as? String,
              let size = (object["virtual-size"] as? NSNumber)?.uint64Value else {
            throw GuesthouseError.invalid("qemu-img could not describe the image")
        }
        let specific = (object["format-specific"] as? [String: Any])?["data"] as? [String: Any]
        let extents = (specific?["extents"] as? [[String: Any]] ?? []).compactMap { $0["filename"] as? String }
        return Info(format: format, virtualSize: size, subformat: specific?["create-type"] as? String,
                    backingFile: object["backing-filename"] as? String ?? object["full-backing-filename"] as? String,
                    otherFiles: extents.filter { $0 != path })
    }

    /// `info`, refusing formats other than `allowed` and images that would read other files of the
    /// host (a backing file, VMDK extents elsewhere): an uploaded image must stand alone.
    /// - Throws: `invalidArguments` naming the format or the file.
    public func checkedInfo(_ path: String, allowed: Set<String> = importable) async throws -> Info {
        let info = try await info(path)
        guard allowed.contains(info.format) else {
            throw GuesthouseError.invalid("image format '\(info.format)' is not supported; send one of "
                                          + allowed.sorted().joined(separator: ", "))
        }
        if let backing = info.backingFile {
            throw GuesthouseError.invalid("the image names a backing file ('\(backing)'); send a standalone image")
        }
        if let other = info.otherFiles.first {
            throw GuesthouseError.invalid("the image reads another file ('\(other)'); send a standalone image")
        }
        return info
    }

    /// Converts `source` (of `format`) into a new file `target` of `outputFormat`, sparse.
    public func convert(_ source: String, format: String, to target: String, outputFormat: String) async throws {
        _ = try await run(["convert", "-q", "-f", format, "-O", outputFormat, "--", source, target],
                          failure: "qemu-img could not convert the \(format) image")
    }

    /// Runs qemu-img and returns its standard output; a failure is `invalidArguments` with
    /// `failure` and the first line qemu-img wrote to standard error.
    func run(_ arguments: [String], failure: String, limited: Bool = false) async throws -> Data {
        let process = Process()
        if limited, let prlimit = Self.find("prlimit") {
            process.executableURL = URL(fileURLWithPath: prlimit)
            process.arguments = ["--as=\(1 << 30)", "--cpu=30", "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        let scratch = try ScratchDirectory(label: "guesthouse-qemu-img")
        defer { scratch.remove() }
        // Files rather than pipes: nothing can fill up and block the child while we wait for it.
        _ = FileManager.default.createFile(atPath: scratch.file("out"), contents: nil)
        _ = FileManager.default.createFile(atPath: scratch.file("err"), contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("out")))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.file("err")))
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
                process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                do { try process.run() } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: GuesthouseError(.internalError, "cannot run \(executable): \(error)"))
                }
            }
        } onCancel: {
            if process.isRunning { process.terminate() }
        }
        try? out.close()
        try? err.close()
        try Task.checkCancellation()
        guard status == 0 else {
            let text = String(decoding: FileManager.default.contents(atPath: scratch.file("err")) ?? Data(), as: UTF8.self)
            let line = text.split(separator: "\n").first.map { ": " + $0 } ?? ""
            throw GuesthouseError.invalid("\(failure)\(line)")
        }
        return FileManager.default.contents(atPath: scratch.file("out")) ?? Data()
    }

    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":") + ["/usr/bin", "/usr/local/bin"]).map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
