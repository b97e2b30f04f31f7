import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseLibvirt
import Hummingbird
import HummingbirdTesting
import Libvirt
import NIOCore
import Testing

/// The web UI over the test driver: session login with CSRF protection, pages, actions.
@Suite struct WebUITests {
    static func server() throws -> TestServer {
        try TestServer.vmango { $0.server.sessionSecret = "test-secret-\(UUID().uuidString)" }
    }

    struct Page {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var text: String
        /// `name=value` of every Set-Cookie.
        var cookies: [String: String] {
            Dictionary(headers[values: .setCookie].compactMap { line -> (String, String)? in
                let pair = line.split(separator: ";").first ?? ""
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }, uniquingKeysWith: { _, b in b })
        }
        /// The value of the first hidden `csrf` field.
        var csrf: String? {
            guard let range = text.range(of: "name=\"csrf\" value=\"") else { return nil }
            return String(text[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    static func request(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String,
                        cookies: [String: String] = [:], form: [String: String]? = nil) async throws -> Page {
        var headers: HTTPFields = [:]
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            let allowed = CharacterSet.alphanumerics
            body = ByteBuffer(string: form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }
                .joined(separator: "&"))
        }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body) { response in
            Page(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    /// Logs in and returns the session cookie and its CSRF token.
    static func logIn(_ client: any TestClientProtocol) async throws -> (cookies: [String: String], csrf: String) {
        let form = try await request(client, .get, "/login/")
        let token = try #require(form.csrf)
        let loginCookie = try #require(form.cookies["guesthouse_login"])
        #expect(loginCookie == token)
        let done = try await request(client, .post, "/login/", cookies: ["guesthouse_login": loginCookie],
                                     form: ["csrf": token, "Username": "admin", "Password": TestServer.password, "next": "/machines/"])
        #expect(done.status == .seeOther)
        #expect(done.headers[.location] == "/machines/")
        let session = try #require(done.cookies["guesthouse_session"])
        let home = try await request(client, .get, "/", cookies: ["guesthouse_session": session])
        return (["guesthouse_session": session], try #require(home.csrf))
    }

    @Test func pagesNeedALoginAndTheLoginFormNeedsItsToken() async throws {
        try await Self.server().run { client in
            let home = try await Self.request(client, .get, "/machines/")
            #expect(home.status == .seeOther)
            #expect(home.headers[.location] == "/login/?next=/machines/")
            let form = try await Self.request(client, .get, "/login/")
            #expect(form.status == .ok)
            #expect(form.headers[.contentType]?.hasPrefix("text/html") == true)
            let token = try #require(form.csrf)
            // No login cookie: a forged cross-site login is refused.
            let forged = try await Self.request(client, .post, "/login/",
                                                form: ["csrf": token, "Username": "admin", "Password": TestServer.password])
            #expect(forged.status == .forbidden)
            #expect(forged.cookies["guesthouse_session"] == nil)
            let wrong = try await Self.request(client, .post, "/login/", cookies: ["guesthouse_login": token],
                                               form: ["csrf": token, "Username": "admin", "Password": "nope"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("Authentication failed"))
            #expect(wrong.cookies["guesthouse_session"] == nil)
            // An open redirect through `next` is not possible.
            let offsite = try await Self.request(client, .post, "/login/", cookies: ["guesthouse_login": token],
                                                 form: ["csrf": token, "Username": "admin", "Password": TestServer.password,
                                                        "next": "//evil.example/"])
            #expect(offsite.headers[.location] == "/")
        }
    }

    @Test func aTamperedSessionIsNoSession() async throws {
        try await Self.server().run { client in
            let (cookies, _) = try await Self.logIn(client)
            let value = cookies["guesthouse_session"]!
            let payload = String(value.split(separator: ".")[0])
            let forgedPayload = Data(#"{"user":"root","csrf":"x","expires":9999999999}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "")
            #expect(payload != forgedPayload)
            let forged = forgedPayload + "." + value.split(separator: ".")[1]
            let r = try await Self.request(client, .get, "/machines/", cookies: ["guesthouse_session": forged])
            #expect(r.status == .seeOther)
        }
    }

    @Test func machinesAreListedCreatedShownStoppedAndDeleted() async throws {
        let server = try Self.server()
        try await server.run { client in
            let (cookies, csrf) = try await Self.logIn(client)
            let list = try await Self.request(client, .get, "/machines/", cookies: cookies)
            #expect(list.status == .ok)
            #expect(list.text.contains(">web-1</a>"))
            #expect(list.text.contains("Log out admin"))
            let status = try await Self.request(client, .get, "/", cookies: cookies)
            #expect(status.text.replacingOccurrences(of: "\n", with: "").contains(#"<td data-label="Provider">LOCAL1</td><td data-label="Machines">3</td><td data-label="Running">2</td>"#))
            let images = try await Self.request(client, .get, "/images/", cookies: cookies)
            #expect(images.text.contains("Debian-12_amd64_qcow2.img"))
            let addForm = try await Self.request(client, .get, "/machines/add/", cookies: cookies)
            #expect(addForm.text.contains("value=\"small\""))
            #expect(addForm.text.contains("value=\"test\""))

            let fields = ["Name": "webvm", "Plan": "small", "Image": "Debian-12_amd64_qcow2.img", "Provider": "LOCAL1",
                          "SSHKey": "test", "Userdata": "<script>alert(1)</script>"]
            // Without the session's CSRF token nothing happens.
            let noToken = try await Self.request(client, .post, "/machines/add/", cookies: cookies, form: fields)
            #expect(noToken.status == .forbidden)
            #expect((try? await server.connection().domain(name: "webvm")) == nil)

            var withToken = fields
            withToken["csrf"] = csrf
            let created = try await Self.request(client, .post, "/machines/add/", cookies: cookies, form: withToken)
            #expect(created.status == .seeOther, "\(created.text)")
            let location = try #require(created.headers[.location])
            #expect(location.hasPrefix("/machines/LOCAL1/"))
            let detail = try await Self.request(client, .get, location, cookies: cookies)
            #expect(detail.text.contains("Machine webvm"))
            #expect(detail.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!detail.text.contains("<script>"))
            #expect(detail.text.contains(TestServer.sshKeyTest))

            let asked = try await Self.request(client, .post, location + "stop/", cookies: cookies, form: ["csrf": csrf])
            #expect(asked.status == .ok && asked.text.contains("Please confirm"))
            let stopped = try await Self.request(client, .post, location + "stop/", cookies: cookies,
                                                 form: ["csrf": csrf, "confirm": "yes"])
            #expect(stopped.status == .seeOther)
            let after = try await Self.request(client, .get, location, cookies: cookies)
            #expect(after.text.contains("class=\"state-stopped\">stopped"))

            let badForm = try await Self.request(client, .post, "/machines/add/", cookies: cookies,
                                                 form: ["csrf": csrf, "Name": "x2", "Plan": "nope", "Image": "i", "Provider": "LOCAL1"])
            #expect(badForm.status == .badRequest)
            #expect(badForm.text.contains("plan &quot;nope&quot; not found"))

            let deleted = try await Self.request(client, .post, location + "delete/", cookies: cookies,
                                                 form: ["csrf": csrf, "confirm": "yes"])
            #expect(deleted.status == .seeOther)
            #expect((try? await server.connection().domain(name: "webvm")) == nil)

            let out = try await Self.request(client, .post, "/logout/", cookies: cookies, form: ["csrf": csrf])
            #expect(out.status == .seeOther)
            #expect(out.cookies["guesthouse_session"] == "")
        }
    }

    @Test func theJSONAPITakesTheSessionCookieButChangesNeedItsToken() async throws {
        try await Self.server().run { client in
            let (cookies, csrf) = try await Self.logIn(client)
            let cookie = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
            let list = try await client.call(.get, "/api/machines/", headers: [.cookie: cookie])
            #expect(list.status == .ok)
            let forged = try await client.call(.post, "/api/machines/LOCAL1/web-1/stop/", headers: [.cookie: cookie])
            #expect(forged.status == .forbidden)
            #expect(client.vmangoError(forged.json).contains("X-CSRF-Token"))
            let stopped = try await client.call(.post, "/api/machines/LOCAL1/web-1/stop/",
                                                headers: [.cookie: cookie, .init("X-CSRF-Token")!: csrf])
            #expect(stopped.status == .ok)
            let tampered = try await client.call(.get, "/api/machines/", headers: [.cookie: cookie + "x"])
            #expect(tampered.status == .unauthorized)
        }
    }

    @Test func withoutASessionSecretTheWebUIIsOff() async throws {
        try await TestServer.vmango().run { client in
            let r = try await Self.request(client, .get, "/login/")
            #expect(r.status == .notFound)
            #expect(r.text.contains("session_secret"))
        }
    }

    // MARK: - Every page and form

    /// The pages a logged-in user can open (the machine's id from the demo's web-1).
    static let pages = ["/", "/machines/", "/machines/add/", "/images/", "/machines/LOCAL1/6f1e8f2a000040008000000000000000/",
                        "/containers/", "/containers/5/"]

    /// Every POST form of the UI besides the login (whose refusal is tested above).
    static let forms = ["/logout/", "/machines/add/", "/containers/"]
        + ["start", "stop", "reboot", "delete", "snapshots", "snapshots/s1/revert", "snapshots/s1/delete", "disks",
           "disks/resize", "media/insert", "media/eject", "clone"].map { "/machines/LOCAL1/6f1e8f2a000040008000000000000000/\($0)/" }
        + ["start", "stop", "delete"].map { "/containers/5/\($0)/" }

    /// A container service holding the running container5 (for the containers pages).
    static func containers() async throws -> WebContainerPagesTests.MemoryContainers {
        let containers = WebContainerPagesTests.MemoryContainers()
        _ = try await containers.create(ContainerSpec(id: 5, ip: "192.168.2.5/24", vlan: 2))
        return containers
    }

    @Test func everyPageAnswersWithStrictHTMLAndNeedsASession() async throws {
        try await Self.server().run(containers: try await Self.containers()) { client in
            for path in Self.pages {
                let anonymous = try await Self.request(client, .get, path)
                #expect(anonymous.status == .seeOther, "\(path)")
                #expect(anonymous.headers[.location] == "/login/?next=\(path)")
            }
            let (cookies, _) = try await Self.logIn(client)
            for path in Self.pages + ["/login/"] {
                let page = try await Self.request(client, .get, path, cookies: cookies)
                #expect(page.status == .ok, "\(path)")
                #expect(page.headers[.contentType] == "text/html; charset=utf-8")
                let policy = page.headers[.init("Content-Security-Policy")!] ?? ""
                #expect(policy.hasPrefix("default-src 'self'") && !policy.contains("unsafe-inline"), "\(path): \(policy)")
                // No inline script or style anywhere: the style sheet and the one script are files of their own.
                let text = page.text.replacingOccurrences(of: "<script src=\"/static/guesthouse.js\" defer></script>", with: "")
                #expect(!text.contains("<script") && !page.text.contains("<style") && !page.text.contains(" style="), "\(path)")
                #expect(page.text.contains("<link rel=\"stylesheet\" href=\"/static/guesthouse.css\">"))
                #expect(page.text.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
            }
            let missing = try await Self.request(client, .get, "/machines/LOCAL1/nope/", cookies: cookies)
            #expect(missing.status == .notFound)
            #expect(missing.text.contains("class=\"error\""))
            // Hostile text in a URL comes back escaped, in an error and in the login form's `next`.
            let hostileID = try await Self.request(client, .get, "/machines/LOCAL1/%3Cscript%3E%26%22/", cookies: cookies)
            #expect(hostileID.status.code >= 400 && hostileID.status.code < 500)
            #expect(!hostileID.text.contains("<script"))
            let hostileNext = try await Self.request(client, .get, "/login/?next=/%22%3E%3Cscript%3Ex%3C/script%3E")
            #expect(hostileNext.status == .ok)
            #expect(!hostileNext.text.contains("<script"))
            #expect(hostileNext.text.contains("value=\"/&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""))
            // The style sheet is public (the login page needs it) and holds the phone layout.
            let css = try await Self.request(client, .get, "/static/guesthouse.css")
            #expect(css.status == .ok)
            #expect(css.headers[.contentType] == "text/css; charset=utf-8")
            #expect(css.text.contains("@media (max-width:44em)") && css.text.contains(":focus-visible"))
        }
    }

    @Test func everyFormRefusesAMissingOrWrongToken() async throws {
        let server = try Self.server()
        let containers = try await Self.containers()
        try await server.run(containers: containers) { client in
            let (cookies, csrf) = try await Self.logIn(client)
            for path in Self.forms {
                for token in [nil, "wrong", csrf + "x"] {
                    var form = ["Name": "forged", "Plan": "small", "Image": "Debian-12_amd64_qcow2.img", "Provider": "LOCAL1"]
                    form["csrf"] = token
                    let refused = try await Self.request(client, .post, path, cookies: cookies, form: form)
                    #expect(refused.status == .forbidden, "\(path) with token \(token ?? "none")")
                    #expect(refused.text.contains("CSRF"))
                    #expect(refused.cookies["guesthouse_session"] == nil)
                }
                // Without a session a POST is refused too, and not redirected to a form that would replay it.
                let anonymous = try await Self.request(client, .post, path, form: ["csrf": csrf])
                #expect(anonymous.status == .forbidden, "\(path)")
            }
            // Nothing happened: web-1 still runs, nothing was created, the session still works.
            let conn = try await server.connection()
            #expect(try conn.domain(name: "web-1").state() == .running)
            #expect(try conn.domain(name: "web-1").snapshots().isEmpty)
            #expect((try? conn.domain(name: "forged")) == nil)
            #expect(try await containers.runningIDs() == [5])
            let list = try await Self.request(client, .get, "/machines/", cookies: cookies)
            #expect(list.status == .ok)
        }
    }

    @Test func theDemoMachinesFillEveryColumn() async throws {
        try await Self.server().run { client in
            let (cookies, _) = try await Self.logIn(client)
            let list = try await Self.request(client, .get, "/machines/", cookies: cookies)
            let text = list.text.replacingOccurrences(of: "\n", with: "")
            for guest in EmbeddedDefault.demoGuests {
                let m = guest.metadata
                #expect(text.contains(">\(guest.name)</a></td>"))
                for (label, value) in [("OS", m.os), ("Address", guest.address), ("Plan", m.plan), ("Creator", m.creator)] {
                    #expect(!value.isEmpty)
                    #expect(text.contains("<td data-label=\"\(label)\">\(value)</td>"), "\(guest.name) \(label)")
                }
            }
            let detail = try await Self.request(client, .get, Self.pages[4], cookies: cookies)
            #expect(detail.text.contains("192.168.150.10 (gateway 192.168.150.1)"))
            #expect(detail.text.contains(EmbeddedDefault.demoKey.publicKey))
            #expect(detail.text.contains("Debian-12_amd64_qcow2.img"))
        }
    }

    @Test func hostileMetadataIsEscapedEverywhereAndAnEmptyAddressStaysEmpty() async throws {
        let server = try Self.server()
        let hostile = "<script>alert(\"x&y\")</script>'"
        let metadata = VmangoMetadata(imageID: "<img src=x>", os: hostile, creator: hostile, plan: "<b>plan</b>",
                                      sshKeys: [MachineSSHKey(name: "<k>", publicKey: "ssh-ed25519 <script>")],
                                      userdata: hostile)
        let conn = try await server.connection()
        let domain = try conn.defineDomain(xml: """
            <domain type='test'><name>hostile</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
            <os><type arch='x86_64'>hvm</type></os><metadata>\(metadata.xml)</metadata>
            <devices><interface type='network'><mac address='52:54:00:ee:ee:ee'/><source network='guesthouse'/></interface></devices>
            </domain>
            """)
        let id = domain.uuid.replacingOccurrences(of: "-", with: "").lowercased()
        try await server.run { client in
            let (cookies, _) = try await Self.logIn(client)
            for path in ["/machines/", "/machines/LOCAL1/\(id)/"] {
                let page = try await Self.request(client, .get, path, cookies: cookies)
                #expect(page.status == .ok)
                let text = page.text.replacingOccurrences(of: "<script src=\"/static/guesthouse.js\" defer></script>", with: "")
                #expect(!text.contains("<script") && !page.text.contains("<img") && !page.text.contains("<b>")
                        && !page.text.contains("<k>"), "\(path)")
                #expect(page.text.contains("&lt;script&gt;alert(&quot;x&amp;y&quot;)&lt;/script&gt;"), "\(path)")
            }
            let detail = try await Self.request(client, .get, "/machines/LOCAL1/\(id)/", cookies: cookies)
            #expect(detail.text.contains("&lt;img src=x&gt;") && detail.text.contains("&lt;b&gt;plan&lt;/b&gt;"))
            #expect(detail.text.contains("<strong>&lt;k&gt;</strong> <code>ssh-ed25519 &lt;script&gt;</code>"))
            // A stopped machine without a static entry has no address, and no empty "(gateway )".
            #expect(detail.text.contains("<th scope=\"row\">Address</th><td></td>"))
            #expect(!detail.text.contains("(gateway"))
        }
    }

    @Test func everyFieldHasALabel() async throws {
        try await Self.server().run(containers: try await Self.containers()) { client in
            let (cookies, _) = try await Self.logIn(client)
            var fields = 0
            for path in Self.pages + ["/login/"] {
                let page = try await Self.request(client, .get, path, cookies: path == "/login/" ? [:] : cookies)
                for control in Self.controls(page.text) where !control.contains("type=\"hidden\"") {
                    fields += 1
                    let id = try #require(Self.attribute("id", control), "\(path): \(control) has no id")
                    #expect(page.text.contains("<label for=\"\(id)\">"), "\(path): no label for \(control)")
                }
                // Controls are real buttons and links.
                #expect(!page.text.contains("onclick") && !page.text.contains("href=\"#\""))
            }
            // Login (2), add form (name, provider, plan, image, one key, user data), the machine page's
            // forms (snapshot, disk size and pool, media, clone), the container form (3).
            #expect(fields >= 17)
        }
    }

    /// The opening tags of every input, select and textarea.
    static func controls(_ html: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: "<(input|select|textarea)\\b[^>]*>")
        return pattern.matches(in: html, range: NSRange(html.startIndex..., in: html)).compactMap {
            Range($0.range, in: html).map { String(html[$0]) }
        }
    }

    static func attribute(_ name: String, _ tag: String) -> String? {
        guard let range = tag.range(of: " \(name)=\"") else { return nil }
        return String(tag[range.upperBound...].prefix { $0 != "\"" })
    }
}
