import Foundation
import GuesthouseCore
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOWebSocket
import Testing
@testable import GuesthouseServer

/// The console pages and websockets over the test driver: who is refused before any upgrade,
/// what the pages carry, and which client files are served.
@Suite struct ConsoleHTTPTests {
    /// Asks for an upgrade of `path` on a fresh connection, as a browser does (curl: an independent
    /// client), and returns the status (never 101 here: every case is refused).
    static func upgrade(_ client: any TestClientProtocol, _ path: String, session: String?, origin: String?)
        throws -> Int {
        let port = try #require(client.port)
        var arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                         "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13",
                         "-H", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="]
        if let session { arguments += ["-H", "Cookie: guesthouse_session=\(session)"] }
        if let origin { arguments += ["-H", "Origin: \(origin)"] }
        let result = try CommandResult.run("curl", arguments + ["http://127.0.0.1:\(port)\(path)"])
        return Int(result.stdout) ?? -1
    }

    @Test func theConsoleSocketsRefuseWithoutASessionOrFromAnotherOriginBeforeUpgrading() async throws {
        try await WebUITests.server().runWithConsoles { client in
            let (cookies, _) = try await WebUITests.logIn(client)
            let session = try #require(cookies["guesthouse_session"])
            let own = "http://127.0.0.1:\(try #require(client.port))"
            for path in ["/machines/LOCAL1/web-1/console/serial/ws", "/machines/LOCAL1/web-1/console/vnc/ws"] {
                let anonymous = try Self.upgrade(client, path, session: nil, origin: own)
                #expect(anonymous == 401, "\(path): \(anonymous)")
                let forged = try Self.upgrade(client, path, session: session + "x", origin: own)
                #expect(forged == 401)
                let elsewhere = try Self.upgrade(client, path, session: session, origin: "http://evil.example")
                #expect(elsewhere == 403, "\(path): \(elsewhere)")
                let otherPort = try Self.upgrade(client, path, session: session, origin: "http://127.0.0.1:1")
                #expect(otherPort == 403)
                let noOrigin = try Self.upgrade(client, path, session: session, origin: nil)
                #expect(noOrigin == 403)
                // Everything right but no upgrade asked for: the gate passed, the socket needs one.
                let plain = try await client.execute(uri: path, method: .get,
                                                     headers: [.cookie: "guesthouse_session=\(session)", .origin: "http://localhost"]) { $0.status }
                #expect(plain == .upgradeRequired)
            }
            // The machine lookup applies: an unknown machine or provider is a 404, not a console.
            let unknown = try Self.upgrade(client, "/machines/LOCAL1/nope/console/serial/ws", session: session, origin: own)
            #expect(unknown == 404)
            let provider = try Self.upgrade(client, "/machines/NOPE/web-1/console/vnc/ws", session: session, origin: own)
            #expect(provider == 400 || provider == 404)
            let kind = try Self.upgrade(client, "/machines/LOCAL1/web-1/console/spice/ws", session: session, origin: own)
            #expect(kind == 404)
            // No containers configured on this server.
            let container = try Self.upgrade(client, "/containers/7/console/serial/ws", session: session, origin: own)
            #expect(container == 404)
        }
    }

    @Test func aMachineWithoutSuchAConsoleUpgradesAndClosesSayingWhy() async throws {
        // libvirt's test driver has no consoles: the gate lets the user in, libvirt says no.
        try await WebUITests.server().runWithConsoles { client in
            let (cookies, _) = try await WebUITests.logIn(client)
            let session = try #require(cookies["guesthouse_session"])
            for kind in ["serial", "vnc"] {
                let socket = try await ConsoleQemuTests.open(try #require(client.port), "/machines/LOCAL1/web-1/console/\(kind)/ws",
                                                             session: session)
                let close: (code: UInt16, reason: String)? = try await socket.executeThenClose { inbound, _ in
                    for try await frame in inbound where frame.opcode == .connectionClose {
                        var data = frame.unmaskedData
                        let code = data.readInteger(as: UInt16.self) ?? 0
                        return (code, data.readString(length: data.readableBytes) ?? "")
                    }
                    return nil
                }
                #expect(close?.code == 1011, "\(kind): \(String(describing: close))")
                #expect(close?.reason.isEmpty == false)
                #expect(close?.reason.contains(session) == false)
            }
        }
    }

    @Test func theConsolePagesNeedASessionAndCarryNoInlineScriptNorSecret() async throws {
        try await WebUITests.server().runWithConsoles { client in
            let anonymous = try await WebUITests.request(client, .get, "/machines/LOCAL1/web-1/console/serial/")
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers[.location] == "/login/?next=/machines/LOCAL1/web-1/console/serial/")
            let (cookies, _) = try await WebUITests.logIn(client)
            let session = try #require(cookies["guesthouse_session"])
            for (kind, script) in [("serial", ConsoleAssets.serialPath), ("vnc", ConsoleAssets.vncPath)] {
                let page = try await WebUITests.request(client, .get, "/machines/LOCAL1/web-1/console/\(kind)/", cookies: cookies)
                #expect(page.status == .ok)
                let csp = try #require(page.headers[.init("Content-Security-Policy")!])
                #expect(csp.hasPrefix("default-src 'self'") && !csp.contains("unsafe"))
                #expect(page.text.contains("data-socket=\"/machines/LOCAL1/web-1/console/\(kind)/ws\""))
                #expect(page.text.contains("<script") && page.text.contains("src=\"\(script)\""))
                // Every script is a file: no inline code, no inline handler, no style attribute.
                let inline = try Regex("<script(?![^>]*\\bsrc=)[^>]*>")
                #expect(page.text.firstMatch(of: inline) == nil)
                #expect(!page.text.contains("onload=") && !page.text.contains("style="))
                #expect(!page.text.contains(session))
                #expect(page.text.contains("web-1"))
            }
            let missing = try await WebUITests.request(client, .get, "/machines/LOCAL1/nope/console/vnc/", cookies: cookies)
            #expect(missing.status == .notFound)
            let container = try await WebUITests.request(client, .get, "/containers/7/console/serial/", cookies: cookies)
            #expect(container.status == .notFound)  // no containers on this server
            // The hostile name of a machine is escaped on the page.
            let hostile = try await WebUITests.request(client, .get, "/machines/LOCAL1/%3Cscript%3E/console/vnc/", cookies: cookies)
            #expect(!hostile.text.contains("<script>"))
        }
    }

    @Test func aContainersConsolePageAndItsSocketGoThroughTheSameGate() async throws {
        let containers = WebContainerPagesTests.MemoryContainers()
        _ = try await containers.create(ContainerSpec(id: 42, ip: "198.18.2.4/24", vlan: 2))
        try await WebUITests.server().run(containers: containers) { client in
            let anonymous = try await WebUITests.request(client, .get, "/containers/42/console/serial/")
            #expect(anonymous.status == .seeOther)
            let (cookies, _) = try await WebUITests.logIn(client)
            let page = try await WebUITests.request(client, .get, "/containers/42/console/serial/", cookies: cookies)
            #expect(page.status == .ok)
            #expect(page.text.contains("data-socket=\"/containers/42/console/serial/ws\""))
            #expect(page.text.contains("href=\"/containers/42/\""))
            let unknown = try await WebUITests.request(client, .get, "/containers/43/console/serial/", cookies: cookies)
            #expect(unknown.status == .notFound)
            // The socket's path without an upgrade: the gate's answers.
            let session = try #require(cookies["guesthouse_session"])
            let noSession = try await client.execute(uri: "/containers/42/console/serial/ws", method: .get,
                                                     headers: [.origin: "http://localhost"]) { $0.status }
            #expect(noSession == .unauthorized)
            let elsewhere = try await client.execute(uri: "/containers/42/console/serial/ws", method: .get,
                                                     headers: [.cookie: "guesthouse_session=\(session)",
                                                               .origin: "http://evil.example"]) { $0.status }
            #expect(elsewhere == .forbidden)
            let missing = try await client.execute(uri: "/containers/43/console/serial/ws", method: .get,
                                                   headers: [.cookie: "guesthouse_session=\(session)",
                                                             .origin: "http://localhost"]) { $0.status }
            #expect(missing == .notFound)
            let right = try await client.execute(uri: "/containers/42/console/serial/ws", method: .get,
                                                 headers: [.cookie: "guesthouse_session=\(session)",
                                                           .origin: "http://localhost"]) { $0.status }
            #expect(right == .upgradeRequired)
        }
    }

    @Test func theGlueAndTheDebianClientsAreServedAndNothingElse() async throws {
        try await WebUITests.server().runWithConsoles { client in
            for path in [ConsoleAssets.vncPath, ConsoleAssets.serialPath] {
                let glue = try await WebUITests.request(client, .get, path)
                #expect(glue.status == .ok)
                #expect(glue.headers[.contentType]?.hasPrefix("text/javascript") == true)
                #expect(glue.text.contains("WebSocket") || glue.text.contains("RFB"))
            }
            try #require(FileManager.default.fileExists(atPath: "/usr/share/novnc/core/rfb.js"),
                         "the novnc package is not installed (scripts/setup installs it)")
            try #require(FileManager.default.fileExists(atPath: "/usr/share/javascript/term.js/term.js"),
                         "the libjs-term.js package is not installed (scripts/setup installs it)")
            let rfb = try await WebUITests.request(client, .get, VendorFiles.novncModule)
            #expect(rfb.status == .ok)
            #expect(rfb.headers[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(rfb.text == (try String(contentsOfFile: "/usr/share/novnc/core/rfb.js", encoding: .utf8)))
            let term = try await WebUITests.request(client, .get, VendorFiles.termScript)
            #expect(term.status == .ok && term.text.contains("Terminal"))
            for bad in ["/static/vendor/novnc/../../../etc/passwd", "/static/vendor/novnc/core/%2e%2e/%2e%2e/vnc.html",
                        "/static/vendor/novnc/core/..%2f..%2f..%2fetc/passwd", "/static/vendor/novnc/.hidden",
                        "/static/vendor/novnc/vnc.html", "/static/vendor/novnc/core", "/static/vendor/novnc/core/nope.js"] {
                let r = try await WebUITests.request(client, .get, bad)
                #expect(r.status == .notFound, "\(bad): \(r.status)")
                #expect(!r.text.contains("root:"))
            }
        }
    }

    @Test func aSymlinkOutOfTheClientsDirectoryIsNotFollowed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gh-vendor-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/core", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "ok".write(toFile: directory + "/core/a.js", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: directory + "/core/b.js", withDestinationPath: directory + "/core/a.js")
        try FileManager.default.createSymbolicLink(atPath: directory + "/core/out.js", withDestinationPath: "/etc/passwd")
        try FileManager.default.createSymbolicLink(atPath: directory + "/up", withDestinationPath: "/etc")
        #expect(VendorFiles.resolve(["core", "a.js"], in: directory) != nil)
        #expect(VendorFiles.resolve(["core", "b.js"], in: directory) != nil)  // inside: fine
        #expect(VendorFiles.resolve(["core", "out.js"], in: directory) == nil)
        #expect(VendorFiles.resolve(["up", "passwd"], in: directory) == nil)
        #expect(VendorFiles.resolve(["core", "..", "core", "a.js"], in: directory) == nil)
        #expect(VendorFiles.resolve(["core"], in: directory) == nil)
    }

    @Test func theOriginMustBeTheHostTheBrowserAsked() {
        func request(_ authority: String, _ origin: String?) -> Request {
            var head = HTTPRequest(method: .get, scheme: "http", authority: authority, path: "/x")
            if let origin { head.headerFields[.origin] = origin }
            return Request(head: head, body: .init(buffer: ByteBuffer()))
        }
        #expect(ConsoleGate.isSameOrigin(request("gh.example:8080", "http://gh.example:8080"), usesTLS: false))
        #expect(ConsoleGate.isSameOrigin(request("GH.example:8080", "http://gh.EXAMPLE:8080"), usesTLS: false))
        #expect(ConsoleGate.isSameOrigin(request("gh.example", "https://gh.example"), usesTLS: false))  // behind a TLS proxy
        #expect(!ConsoleGate.isSameOrigin(request("gh.example", "http://gh.example"), usesTLS: true))
        #expect(!ConsoleGate.isSameOrigin(request("gh.example:8080", "http://gh.example"), usesTLS: false))
        #expect(!ConsoleGate.isSameOrigin(request("gh.example", "http://gh.example.evil.test"), usesTLS: false))
        #expect(!ConsoleGate.isSameOrigin(request("gh.example", "null"), usesTLS: false))
        #expect(!ConsoleGate.isSameOrigin(request("gh.example", nil), usesTLS: false))
    }
}
