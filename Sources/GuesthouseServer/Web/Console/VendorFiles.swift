import Foundation
import Hummingbird

/// The browser clients of the consoles, served from where their Debian packages install them (none
/// is copied into this repository): noVNC (`novnc`, /usr/share/novnc) and term.js (`libjs-term.js`,
/// /usr/share/javascript/term.js). Debian 12's `libjs-xterm` ships no usable browser build (its
/// xterm.js is a 288-byte CommonJS stub), so the serial console uses term.js.
///
/// A path is served only when every component is a plain name (letters, digits, `-`, `_`, `.`,
/// not starting with a dot), its real path (symlinks resolved) stays inside the package's real
/// directory, it is a regular file, and its type is one a browser needs (scripts, styles, images).
struct VendorFiles: Sendable {
    /// URL prefix → directory.
    var roots: [String: String] = [
        "/static/vendor/novnc/": "/usr/share/novnc",
        "/static/vendor/term.js/": "/usr/share/javascript/term.js",
    ]

    static let termScript = "/static/vendor/term.js/term.js"
    static let novncModule = "/static/vendor/novnc/core/rfb.js"

    static let types = [
        "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8", "png": "image/png",
        "svg": "image/svg+xml", "ico": "image/x-icon", "json": "application/json",
    ]

    func register(_ router: Router<GuesthouseContext>) {
        for (prefix, directory) in roots {
            router.get(RouterPath(prefix + "**")) { _, context in
                let parts = context.parameters.getCatchAll().map(String.init)
                guard let file = Self.resolve(parts, in: directory), let type = Self.types[(file as NSString).pathExtension],
                      let data = FileManager.default.contents(atPath: file) else {
                    return Response(status: .notFound, headers: [.contentType: "text/plain"],
                                    body: .init(byteBuffer: ByteBuffer(string: "not found\n")))
                }
                return Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=3600",
                                                       .init("X-Content-Type-Options")!: "nosniff"],
                                body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
        }
    }

    /// The file `parts` names under `directory`, or nil when the path is not a plain one, leaves
    /// the directory (after resolving symlinks) or is not a regular file.
    static func resolve(_ parts: [String], in directory: String) -> String? {
        guard !parts.isEmpty, parts.allSatisfy(isPlainName) else { return nil }
        let root = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        let candidate = URL(fileURLWithPath: directory + "/" + parts.joined(separator: "/")).resolvingSymlinksInPath().path
        guard candidate.hasPrefix(root + "/") else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue else {
            return nil
        }
        return candidate
    }

    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix(".") && name.count <= 255
            && name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }
    }
}
