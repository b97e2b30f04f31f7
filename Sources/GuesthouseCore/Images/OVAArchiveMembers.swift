import Foundation

/// The one place an OVA import uses the project's tar reader (`TarReader`): every regular
/// member is written to a file of a private scratch directory under a name the server chooses
/// (`member-N`), never the archive's own path; the OVF descriptor and the manifest (`.mf`) are read
/// into memory. Every member's SHA-1 and SHA-256 are computed on the way, for the manifest.
enum OVAArchiveMembers {
    struct Extracted {
        /// The descriptor's text.
        var descriptor: String
        /// Member name (as the archive spells it, without a leading "./") -> local file.
        var files: [String: String]
        /// The manifest's text (a top-level `*.mf` member), if the OVA has one.
        var manifest: String?
        /// Member name (without a leading "./") -> its digests, for every member but the manifest.
        var digests: [String: MemberDigests]
    }

    static let descriptorLimit = 4 << 20

    static func extract(_ archive: AsyncThrowingStream<[UInt8], any Error>, into scratch: ScratchDirectory,
                        progress: TransferProgress) async throws -> Extracted {
        let reader = TarReader(archive)
        var descriptor: String?
        var manifest: String?
        var files: [String: String] = [:]
        var digests: [String: MemberDigests] = [:]
        while let entry = try await reader.next() {
            let name = entry.name
            guard entry.isFile else { continue }  // `next()` skips what was not read
            if name.lowercased().hasSuffix(".mf") && !name.contains("/") {
                guard manifest == nil else { throw GuesthouseError.invalid("the OVA holds more than one manifest (.mf)") }
                manifest = String(decoding: try await reader.readSmall(limit: descriptorLimit), as: UTF8.self)
                continue
            }
            var hasher = MemberHasher()
            if name.lowercased().hasSuffix(".ovf") && !name.contains("/") {
                guard descriptor == nil else { throw GuesthouseError.invalid("the OVA holds more than one OVF descriptor") }
                let bytes = try await reader.readSmall(limit: descriptorLimit)
                hasher.update(bytes)
                digests[OVAManifest.normalized(name)] = hasher.finalize()
                descriptor = String(decoding: bytes, as: UTF8.self)
                continue
            }
            let path = scratch.file("member-\(files.count)")
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
                  let handle = FileHandle(forWritingAtPath: path) else {
                throw GuesthouseError(.internalError, "cannot write a temporary file in \(scratch.path)")
            }
            defer { try? handle.close() }
            var written: UInt64 = 0
            try await reader.readFile { piece in
                try Task.checkCancellation()
                switch piece {
                case .data(let chunk):
                    hasher.update(chunk)
                    try handle.write(contentsOf: chunk)
                    written += UInt64(chunk.count)
                    progress.add(chunk.count)
                case .hole(let length):
                    // A sparse member (a repacked OVA): the hole stays a hole in the scratch file.
                    hasher.update(zeros: length)
                    written += length
                    try handle.seek(toOffset: written)
                }
            }
            try handle.truncate(atOffset: written)
            files[name] = path
            digests[OVAManifest.normalized(name)] = hasher.finalize()
        }
        try await reader.finish()
        guard let descriptor else { throw GuesthouseError.invalid("the OVA holds no .ovf descriptor") }
        return Extracted(descriptor: descriptor, files: files, manifest: manifest, digests: digests)
    }
}

/// Tells an OVA from other uploads by its first tar header.
public enum OVASniffer {
    /// True when the first 512 bytes are a tar header of a member named `*.ovf`.
    public static func looksLikeOVA(_ firstBlock: [UInt8]) -> Bool {
        guard firstBlock.count >= Tar.blockSize, let entry = try? Tar.parseHeader(Array(firstBlock[0..<Tar.blockSize])) else {
            return false
        }
        return entry.name.lowercased().hasSuffix(".ovf")
    }
}
