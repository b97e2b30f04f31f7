import Hummingbird

/// The consoles' own glue: two small scripts and a style sheet, kept as files in
/// `Web/Resources` and embedded in the binary at build time (no inline script: the pages' CSP
/// allows scripts from this server only).
enum ConsoleAssets {
    static let vncPath = "/static/console/vnc.js"
    static let serialPath = "/static/console/serial.js"
    static let cssPath = "/static/console/console.css"

    static func register(_ router: Router<GuesthouseContext>) {
        let files: [(String, [UInt8], String)] = [
            (vncPath, PackageResources.console_vnc_js, "text/javascript; charset=utf-8"),
            (serialPath, PackageResources.console_serial_js, "text/javascript; charset=utf-8"),
            (cssPath, PackageResources.console_css, "text/css; charset=utf-8"),
        ]
        for (path, bytes, type) in files {
            router.get(RouterPath(path)) { _, _ in
                Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=3600",
                                                .init("X-Content-Type-Options")!: "nosniff"],
                         body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
            }
        }
    }
}
