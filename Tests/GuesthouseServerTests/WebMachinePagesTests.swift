import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseLibvirt
import Hummingbird
import HummingbirdTesting
import Libvirt
import Testing

/// The machine page's forms over the test driver: snapshots, disks, media, clone, export, the
/// confirmation step, problems beside their fields, and the state the page's script polls.
@Suite struct WebMachinePagesTests {
    typealias Web = WebUITests
    /// The demo's web-1 (running).
    static let web1 = "/machines/LOCAL1/6f1e8f2a000040008000000000000000/"

    /// The text of the field's message (`<p class="field-error" id="ID-error">`), nil when absent.
    static func fieldError(_ page: WebUITests.Page, _ id: String) -> String? {
        guard let range = page.text.range(of: "<p class=\"field-error\" id=\"\(id)-error\">") else { return nil }
        return String(page.text[range.upperBound...].prefix { $0 != "<" })
    }

    /// Stops web-1 through the page, with the confirmation step.
    static func stop(_ client: any TestClientProtocol, _ cookies: [String: String], _ csrf: String,
                     _ machine: String = web1) async throws {
        let stopped = try await Web.request(client, .post, machine + "stop/", cookies: cookies,
                                            form: ["csrf": csrf, "confirm": "yes"])
        #expect(stopped.status == .seeOther)
    }

    @Test func snapshotsAreTakenRevertedAndDeletedAfterConfirmation() async throws {
        let server = try Web.server()
        try await server.run { client in
            let (cookies, csrf) = try await Web.logIn(client)
            let taken = try await Web.request(client, .post, Self.web1 + "snapshots/", cookies: cookies,
                                              form: ["csrf": csrf, "name": "before-update"])
            #expect(taken.status == .seeOther)
            #expect(taken.headers[.location] == Self.web1)
            let domain = try await server.connection().domain(name: "web-1")
            #expect(try domain.snapshots().map(\.name) == ["before-update"])
            let page = try await Web.request(client, .get, Self.web1, cookies: cookies)
            #expect(page.text.contains("<td data-label=\"Name\">before-update</td>"))
            #expect(page.text.contains("action=\"\(Self.web1)snapshots/before-update/revert/\""))

            // Revert: first the question, nothing reverted; then with the confirmation.
            let ask = try await Web.request(client, .post, Self.web1 + "snapshots/before-update/revert/", cookies: cookies,
                                            form: ["csrf": csrf])
            #expect(ask.status == .ok)
            #expect(ask.text.contains("Revert machine web-1 to snapshot before-update?"))
            #expect(ask.text.contains("<input type=\"hidden\" name=\"confirm\" value=\"yes\">"))
            #expect(ask.text.contains("action=\"\(Self.web1)snapshots/before-update/revert/\""))
            #expect(ask.text.contains("href=\"\(Self.web1)\">Cancel</a>"))
            let reverted = try await Web.request(client, .post, Self.web1 + "snapshots/before-update/revert/",
                                                 cookies: cookies, form: ["csrf": csrf, "confirm": "yes"])
            #expect(reverted.status == .seeOther)

            let askDelete = try await Web.request(client, .post, Self.web1 + "snapshots/before-update/delete/",
                                                  cookies: cookies, form: ["csrf": csrf])
            #expect(askDelete.status == .ok && askDelete.text.contains("Delete snapshot before-update"))
            #expect(try domain.snapshots().count == 1)
            let deleted = try await Web.request(client, .post, Self.web1 + "snapshots/before-update/delete/",
                                                cookies: cookies, form: ["csrf": csrf, "confirm": "yes"])
            #expect(deleted.status == .seeOther)
            #expect(try domain.snapshots().isEmpty)
            let missing = try await Web.request(client, .post, Self.web1 + "snapshots/before-update/delete/",
                                                cookies: cookies, form: ["csrf": csrf, "confirm": "yes"])
            #expect(missing.status == .notFound)
            #expect(missing.text.contains("<p class=\"field-error\" role=\"alert\">"))
        }
    }

    @Test func badValuesComeBackBesideTheirFieldWithA4xx() async throws {
        let server = try Web.server()
        try await server.run { client in
            let (cookies, csrf) = try await Web.logIn(client)
            let badName = try await Web.request(client, .post, Self.web1 + "snapshots/", cookies: cookies,
                                                form: ["csrf": csrf, "name": "bad name<b>"])
            #expect(badName.status == .badRequest)
            #expect(Self.fieldError(badName, "snapshot-name")?.contains("must be 1-64 letters") == true)
            #expect(badName.text.contains("value=\"bad name&lt;b&gt;\" aria-invalid=\"true\" aria-describedby=\"snapshot-name-error\""))
            #expect(!badName.text.contains("<b>"))
            #expect(try await server.connection().domain(name: "web-1").snapshots().isEmpty)

            _ = try await Web.request(client, .post, Self.web1 + "snapshots/", cookies: cookies, form: ["csrf": csrf, "name": "s1"])
            let taken = try await Web.request(client, .post, Self.web1 + "snapshots/", cookies: cookies,
                                              form: ["csrf": csrf, "name": "s1"])
            #expect(taken.status == .conflict)
            #expect(Self.fieldError(taken, "snapshot-name")?.contains("already has a snapshot named") == true)

            for size in ["x", "0", "-1", "99999999"] {
                let badSize = try await Web.request(client, .post, Self.web1 + "disks/", cookies: cookies,
                                                    form: ["csrf": csrf, "size": size])
                #expect(badSize.status == .badRequest, "\(size)")
                #expect(Self.fieldError(badSize, "disk-size")?.contains("whole number of GiB") == true, "\(size)")
            }
            let noPool = try await Web.request(client, .post, Self.web1 + "disks/", cookies: cookies,
                                               form: ["csrf": csrf, "size": "1", "pool": "nope"])
            #expect(noPool.status == .notFound)
            #expect(Self.fieldError(noPool, "disk-pool") != nil)

            let noClone = try await Web.request(client, .post, Self.web1 + "clone/", cookies: cookies,
                                                form: ["csrf": csrf, "clone": ""])
            #expect(noClone.status == .badRequest)
            #expect(Self.fieldError(noClone, "clone-name")?.contains("the clone&#39;s name must be 1-64") == true)
            let running = try await Web.request(client, .post, Self.web1 + "clone/", cookies: cookies,
                                                form: ["csrf": csrf, "clone": "copy-1"])
            #expect(running.status == .conflict)
            #expect(Self.fieldError(running, "clone-name") != nil)
            #expect(running.text.contains("value=\"copy-1\""))

            let noImage = try await Web.request(client, .post, Self.web1 + "media/insert/", cookies: cookies,
                                                form: ["csrf": csrf, "image": ""])
            #expect(noImage.status == .badRequest)
            #expect(Self.fieldError(noImage, "media-image") == "choose an ISO image to insert")
            // A machine that does not exist is a 404 page, not a form.
            let gone = try await Web.request(client, .post, "/machines/LOCAL1/nope/snapshots/", cookies: cookies,
                                             form: ["csrf": csrf, "name": "x"])
            #expect(gone.status == .notFound)
        }
    }

    @Test func aStoppedMachineGetsADiskAndCannotShrinkIt() async throws {
        let server = try Web.server()
        try await server.run { client in
            let (cookies, csrf) = try await Web.logIn(client)
            try await Self.stop(client, cookies, csrf)
            let page = try await Web.request(client, .get, Self.web1, cookies: cookies)
            #expect(page.text.contains("<option>default</option>") && page.text.contains("<option>images</option>"))
            let added = try await Web.request(client, .post, Self.web1 + "disks/", cookies: cookies,
                                              form: ["csrf": csrf, "size": "2", "pool": "default"])
            #expect(added.status == .seeOther, "\(added.text)")
            // The demo machine had no disk: now one volume of the default pool is attached.
            let xml = try await server.connection().domain(name: "web-1").xml(inactive: true)
            #expect(xml.components(separatedBy: "<disk ").count == 2)
            let after = try await Web.request(client, .get, Self.web1, cookies: cookies)
            #expect(after.text.contains("<td data-label=\"Pool\">default</td><td data-label=\"Size\">2.0 GiB</td>"), "\(after.text)")
            let device = try #require(after.text.range(of: "<td data-label=\"Device\">").map {
                String(after.text[$0.upperBound...].prefix { $0 != "<" })
            })
            let shrink = try await Web.request(client, .post, Self.web1 + "disks/resize/", cookies: cookies,
                                               form: ["csrf": csrf, "disk": device, "size": "1"])
            #expect(shrink.status == .conflict)
            #expect(Self.fieldError(shrink, "resize-size") != nil)
            #expect(shrink.text.contains("<option value=\"\(device)\" selected>"))
        }
    }

    @Test func anISOIsInsertedAndEjectedAfterConfirmation() async throws {
        let server = try Web.server()
        let conn = try await server.connection()
        _ = try conn.storagePool(name: "images").createVolume(xml: """
            <volume><name>rescue.iso</name><capacity unit='MiB'>10</capacity><target><format type='raw'/></target></volume>
            """)
        _ = try conn.storagePool(name: "default").createVolume(xml: """
            <volume><name>db-1_config.iso</name><capacity unit='MiB'>1</capacity><target><format type='raw'/></target></volume>
            """)
        try await server.run { client in
            let (cookies, csrf) = try await Web.logIn(client)
            try await Self.stop(client, cookies, csrf)
            let page = try await Web.request(client, .get, Self.web1, cookies: cookies)
            #expect(page.text.contains("<option>rescue.iso</option>"))
            #expect(!page.text.contains("<option>Debian-12_amd64_qcow2.img</option>"))  // not an ISO
            // Another machine's config drive (its user data and keys) is neither offered nor taken.
            #expect(!page.text.contains("db-1_config.iso"))
            let foreign = try await Web.request(client, .post, Self.web1 + "media/insert/", cookies: cookies,
                                                form: ["csrf": csrf, "image": "db-1_config.iso"])
            #expect(foreign.status == .badRequest)
            #expect(Self.fieldError(foreign, "media-image")?.contains("config drive") == true)
            #expect(!(try conn.domain(name: "web-1").xml(inactive: true).contains("_config.iso")))
            let inserted = try await Web.request(client, .post, Self.web1 + "media/insert/", cookies: cookies,
                                                 form: ["csrf": csrf, "image": "rescue.iso"])
            #expect(inserted.status == .seeOther, "\(inserted.text)")
            #expect(try conn.domain(name: "web-1").xml(inactive: true).contains("rescue.iso"))
            let shown = try await Web.request(client, .get, Self.web1, cookies: cookies)
            #expect(shown.text.contains("In the drive: <strong>rescue.iso</strong>"))
            let ask = try await Web.request(client, .post, Self.web1 + "media/eject/", cookies: cookies, form: ["csrf": csrf])
            #expect(ask.status == .ok && ask.text.contains("Eject the CD-ROM of machine web-1?"))
            #expect(try conn.domain(name: "web-1").xml(inactive: true).contains("rescue.iso"))
            let ejected = try await Web.request(client, .post, Self.web1 + "media/eject/", cookies: cookies,
                                                form: ["csrf": csrf, "confirm": "yes"])
            #expect(ejected.status == .seeOther)
            #expect(!(try conn.domain(name: "web-1").xml(inactive: true).contains("rescue.iso")))
            let empty = try await Web.request(client, .get, Self.web1, cookies: cookies)
            #expect(empty.text.contains("In the drive: nothing"))
        }
    }

    @Test func aConfigDriveIsNoMediaDriveAndStaysWhenAnISOGoesIn() async throws {
        let server = try Web.server()
        let conn = try await server.connection()
        _ = try conn.storagePool(name: "images").createVolume(xml: """
            <volume><name>rescue.iso</name><capacity unit='MiB'>10</capacity><target><format type='raw'/></target></volume>
            """)
        let domain = try conn.defineDomain(xml: """
            <domain type='test'><name>cfg-vm</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
            <os><type arch='x86_64' machine='pc'>hvm</type></os><devices>
            <disk type='file' device='cdrom'><source file='/var/lib/libvirt/images/cfg-vm_config.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>
            </devices></domain>
            """)
        let base = "/machines/LOCAL1/\(domain.uuid.replacingOccurrences(of: "-", with: "").lowercased())/"
        try await server.run { client in
            let (cookies, csrf) = try await Web.logIn(client)
            let page = try await Web.request(client, .get, base, cookies: cookies)
            #expect(page.text.contains("In the drive: nothing"))
            let inserted = try await Web.request(client, .post, base + "media/insert/", cookies: cookies,
                                                 form: ["csrf": csrf, "image": "rescue.iso"])
            #expect(inserted.status == .seeOther, "\(inserted.text)")
            let xml = try domain.xml(inactive: true)
            #expect(xml.contains("cfg-vm_config.iso") && xml.contains("rescue.iso"), "\(xml)")
            #expect(try await Web.request(client, .get, base, cookies: cookies).text.contains("In the drive: <strong>rescue.iso</strong>"))
            let ejected = try await Web.request(client, .post, base + "media/eject/", cookies: cookies,
                                                form: ["csrf": csrf, "confirm": "yes"])
            #expect(ejected.status == .seeOther)
            let after = try domain.xml(inactive: true)
            #expect(after.contains("cfg-vm_config.iso") && !after.contains("rescue.iso"), "\(after)")
        }
    }

    @Test func aStoppedMachineIsClonedAndTheExportNeedsTheSession() async throws {
        let server = try Web.server()
        try await server.run { client in
            let (cookies, csrf) = try await Web.logIn(client)
            // The export link's route is the web session's (the Simplestack one takes API credentials).
            let anonymous = try await Web.request(client, .get, Self.web1 + "export/")
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers[.location] == "/login/?next=\(Self.web1)export/")
            let running = try await Web.request(client, .get, Self.web1 + "export/", cookies: cookies)
            #expect(running.status == .conflict)
            #expect(running.headers[.contentType] == "text/html; charset=utf-8")
            // Simplestack's export route takes API credentials, not the web session's cookie.
            let viaAPI = try await client.call(.get, "/test/localhost/guests/6f1e8f2a-0000-4000-8000-000000000000/export",
                                               headers: [.cookie: "guesthouse_session=\(cookies["guesthouse_session"]!)"])
            #expect(viaAPI.status == .unauthorized)
            try await Self.stop(client, cookies, csrf)
            // web-1 has no disk, so even the test driver exports it: the definition and the manifest.
            // (qemu:///system's export with a disk is in the browser test.)
            let cookie = "guesthouse_session=\(cookies["guesthouse_session"]!)"
            let (status, headers, body) = try await client.execute(uri: Self.web1 + "export/", method: .get,
                                                                   headers: [.cookie: cookie]) { response in
                (response.status, response.headers, Data(buffer: response.body))
            }
            #expect(status == .ok)
            #expect(headers[.contentType] == "application/x-tar")
            #expect(headers[.contentDisposition] == "attachment; filename=\"web-1.tar\"")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("gh-web-export-\(UUID().uuidString).tar")
            defer { try? FileManager.default.removeItem(at: file) }
            try body.write(to: file)
            let (tarStatus, listing) = try Tool.run(["tar", "-tf", file.path])
            #expect(tarStatus == 0, "\(listing)")
            #expect(listing.contains("domain.xml") && listing.contains("guesthouse.json"), "\(listing)")

            let cloned = try await Web.request(client, .post, Self.web1 + "clone/", cookies: cookies,
                                               form: ["csrf": csrf, "clone": "web-1-copy"])
            #expect(cloned.status == .seeOther, "\(cloned.text)")
            let copy = try await server.connection().domain(name: "web-1-copy")
            let id = copy.uuid.replacingOccurrences(of: "-", with: "").lowercased()
            #expect(cloned.headers[.location] == "/machines/LOCAL1/\(id)/")
            let page = try await Web.request(client, .get, "/machines/LOCAL1/\(id)/", cookies: cookies)
            #expect(page.status == .ok && page.text.contains("Machine web-1-copy"))
        }
    }

    @Test func stopAndDeleteAskFirstAndTheStateIsPolledAsJSON() async throws {
        let server = try Web.server()
        try await server.run { client in
            let (cookies, csrf) = try await Web.logIn(client)
            let page = try await Web.request(client, .get, Self.web1, cookies: cookies)
            #expect(page.text.contains("<script src=\"/static/guesthouse.js\" defer></script>"))
            #expect(page.text.contains("data-state-url=\"\(Self.web1)state/\""))
            // The consoles' pages (another branch builds them) are linked from the machine page.
            #expect(page.text.contains("href=\"\(Self.web1)console/vnc/\"") && page.text.contains("href=\"\(Self.web1)console/serial/\""))
            let state = try await client.call(.get, Self.web1 + "state/", headers: [.cookie: "guesthouse_session=\(cookies["guesthouse_session"]!)"])
            #expect(state.status == .ok)
            #expect(state.text == #"{"state":"running"}"#)
            let noSession = try await client.call(.get, Self.web1 + "state/", headers: [:])
            #expect(noSession.status == .unauthorized)
            #expect(noSession.headers[.contentType] == "application/json")
            let script = try await Web.request(client, .get, "/static/guesthouse.js")
            #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(script.text.contains("data-state-url") && script.text.contains("fetch("))

            let conn = try await server.connection()
            let ask = try await Web.request(client, .post, Self.web1 + "stop/", cookies: cookies, form: ["csrf": csrf])
            #expect(ask.status == .ok && ask.text.contains("Stop machine web-1 now?"))
            #expect(try conn.domain(name: "web-1").state() == .running)
            try await Self.stop(client, cookies, csrf)
            #expect(try conn.domain(name: "web-1").state() != .running)
            let stopped = try await client.call(.get, Self.web1 + "state/", headers: [.cookie: "guesthouse_session=\(cookies["guesthouse_session"]!)"])
            #expect(stopped.text == #"{"state":"stopped"}"#)
            let askDelete = try await Web.request(client, .post, Self.web1 + "delete/", cookies: cookies, form: ["csrf": csrf])
            #expect(askDelete.status == .ok && askDelete.text.contains("Delete machine web-1 with its disks?"))
            #expect((try? conn.domain(name: "web-1")) != nil)
            let deleted = try await Web.request(client, .post, Self.web1 + "delete/", cookies: cookies,
                                                form: ["csrf": csrf, "confirm": "yes"])
            #expect(deleted.status == .seeOther && deleted.headers[.location] == "/machines/")
            #expect((try? conn.domain(name: "web-1")) == nil)
        }
    }

    @Test func aMachineNamedScriptIsEscapedOnEveryPageAndQuestion() async throws {
        let server = try Web.server()
        let conn = try await server.connection()
        let name = "<script>alert(1)"
        let domain = try conn.defineDomain(xml: """
            <domain type='test'><name>\(xmlEscape(name))</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
            <os><type arch='x86_64'>hvm</type></os></domain>
            """)
        let id = domain.uuid.replacingOccurrences(of: "-", with: "").lowercased()
        _ = try domain.createSnapshot(xml: "<domainsnapshot><name>snap</name></domainsnapshot>")
        try await server.run { client in
            let (cookies, csrf) = try await Web.logIn(client)
            let base = "/machines/LOCAL1/\(id)/"
            var pages = [try await Web.request(client, .get, "/machines/", cookies: cookies),
                         try await Web.request(client, .get, base, cookies: cookies)]
            for action in ["delete/", "snapshots/snap/revert/", "snapshots/snap/delete/", "media/eject/"] {
                pages.append(try await Web.request(client, .post, base + action, cookies: cookies, form: ["csrf": csrf]))
            }
            pages.append(try await Web.request(client, .post, base + "clone/", cookies: cookies,
                                               form: ["csrf": csrf, "clone": "<script>"]))
            for page in pages {
                #expect(page.text.contains("&lt;script&gt;alert(1)"))
                #expect(!page.text.contains("<script>"))
            }
            #expect((try? conn.domain(name: name)) != nil)
        }
    }

    @Test func theStatusPageDrawsMemoryAndStorageMeters() async throws {
        try await Web.server().run { client in
            let (cookies, _) = try await Web.logIn(client)
            let page = try await Web.request(client, .get, "/", cookies: cookies)
            // The demo node: 3 GiB of host memory, all given to the two running machines; an empty 100 GiB pool.
            #expect(page.text.contains(#"<meter min="0" max="3072" high="2764" value="3072" aria-label="Memory of LOCAL1: 3.0 GiB of 3.0 GiB">"#), "\(page.text)")
            #expect(page.text.contains(#"<meter min="0" max="102400" high="92160" value="0" aria-label="Storage of LOCAL1: 0 B of 100.0 GiB">"#))
            #expect(!page.text.contains(" style="))
        }
    }
}
