import AsyncHTTPClient
import Foundation
import GuesthouseClient
import GuesthouseConfig
import GuesthouseCore
import GuesthouseLibvirt
import GuesthouseServer
import Hummingbird
import HummingbirdTesting
import Libvirt
import NIOCore
import GuesthouseTestSupport
import Testing

extension SurfaceClient {
    /// Sends with extra header fields (e.g. `Prefer`), authenticated as admin unless `token` says otherwise.
    func send(_ method: HTTPRequest.Method, _ path: String, bytes: Data? = nil, json: String? = nil,
              headers extra: HTTPFields, token: String = SurfaceHarness.token) async throws -> SurfaceResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[.init("x-simplestack-hypervisor-token")!] = token
        for field in extra { headers.append(field) }
        let body: ByteBuffer? = bytes.map { ByteBuffer(bytes: $0) } ?? json.map { ByteBuffer(string: $0) }
        return try await client.execute(uri: path, method: method, headers: headers, body: body) { response in
            SurfaceResponse(status: Int(response.status.code), headers: response.headers, body: Data(buffer: response.body))
        }
    }

    /// Polls an operation until it is no longer running (or fails after `seconds`); returns every
    /// status seen.
    func waitForOperation(_ location: String, seconds: Double = 300) async throws -> [SurfaceResponse] {
        var seen: [SurfaceResponse] = []
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            let status = try await get(location)
            seen.append(status)
            if status.object["state"] as? String != "running" { return seen }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("operation \(location) still running after \(seconds) s")
        return seen
    }
}

let preferAsync: HTTPFields = [.init("Prefer")!: "respond-async"]

extension ImageTransferQemuSuites {
    /// Long transfers as operations (`Prefer: respond-async`) on qemu:///system: 202 with Location,
    /// progress, completion with the result, owners, and cancel leaving nothing.
    @Suite struct OperationsQemuTests {
        @Test func anImageImportRunsAsAnOperationWithProgressAndAResult() async throws {
            try await QemuScratch.with { scratch, client in
                try await ImageImportQemuTests.withWorkDirectory { dir in
                    let file = "\(dir)/image.vmdk"
                    try Tool.check(["qemu-img", "convert", "-f", "raw", "-O", "vmdk", try Tool.testImage(), file])
                    let name = "\(scratch.prefix)-async"
                    let res = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/images?name=\(name)",
                                                    bytes: try Data(contentsOf: URL(fileURLWithPath: file)), headers: preferAsync)
                    #expect(res.status == 202, "\(res.text)")
                    #expect(res.headers[.init("Preference-Applied")!] == "respond-async")
                    let location = try #require(res.location)
                    #expect(location.hasPrefix("/operations/"))
                    #expect(res.object["state"] as? String == "running")
                    #expect(res.object["kind"] as? String == "image import")

                    // Wrong credentials are refused and see nothing of it (another user's 404 is in
                    // OpenAPISchemaTests).
                    let stranger = Data("admin:wrong".utf8).base64EncodedString()
                    #expect(try await client.send(.get, location, headers: [:], token: stranger).status == 401)

                    let seen = try await client.waitForOperation(location)
                    let last = try #require(seen.last)
                    #expect(last.object["state"] as? String == "succeeded", "\(last.text)")
                    let done = seen.compactMap { ($0.object["bytes_done"] as? NSNumber)?.uint64Value }
                    #expect(done == done.sorted(), "progress never goes back")
                    let total = (last.object["bytes_total"] as? NSNumber)?.uint64Value ?? 0
                    #expect(total > 0 && done.last == total)
                    #expect(last.object["location"] as? String == "/kvm/localhost/storages/\(scratch.pool)/images/\(name)")
                    #expect(try scratch.volumes() == [name])
                    let path = try ImageImportQemuTests.volumePath(pool: scratch.pool, name: name)
                    #expect(try Tool.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", try Tool.testImage(), path]).status == 0)
                    // Deleting a finished operation forgets it; the volume stays.
                    #expect(try await client.delete(location).status == 200)
                    #expect(try await client.get(location).status == 404)
                    #expect(try scratch.volumes() == [name])
                }
            }
        }

        @Test func anExportRunsAsAnOperationAndItsArchiveIsFetchedFromIt() async throws {
            try await QemuScratch.with { scratch, client in
                let name = "\(scratch.prefix)-exp"
                let made = try await client.post("/kvm/localhost/guests",
                                                 #"{"name": "\#(name)", "hdd": 1, "storage": "\#(scratch.pool)"}"#)
                #expect(made.status == 201, "\(made.text)")
                let res = try await client.send(.get, "/kvm/localhost/guests/\(name)/export", headers: preferAsync)
                #expect(res.status == 202, "\(res.text)")
                let location = try #require(res.location)
                let total = (res.object["bytes_total"] as? NSNumber)?.uint64Value ?? 0
                #expect(total > 0)
                let last = try #require(try await client.waitForOperation(location).last)
                #expect(last.object["state"] as? String == "succeeded", "\(last.text)")
                #expect((last.object["bytes_done"] as? NSNumber)?.uint64Value == total)
                let resultPath = try #require(last.object["result"] as? String)
                let archive = try await client.get(resultPath)
                #expect(archive.status == 200)
                #expect(UInt64(archive.body.count) == total)
                try await ImageImportQemuTests.withWorkDirectory { dir in
                    try archive.body.write(to: URL(fileURLWithPath: "\(dir)/a.tar"))
                    let listing = try Tool.check(["tar", "-tf", "\(dir)/a.tar"])
                    #expect(listing.contains("guesthouse.json") && listing.contains("domain.xml"))
                }
                // Deleting the finished operation removes its spooled archive.
                let spooled = try FileManager.default.contentsOfDirectory(atPath: "/var/tmp").filter { $0.hasPrefix("guesthouse-export-") }
                #expect(!spooled.isEmpty)
                #expect(try await client.delete(location).status == 200)
                let left = try FileManager.default.contentsOfDirectory(atPath: "/var/tmp").filter { $0.hasPrefix("guesthouse-export-") }
                #expect(left.isEmpty, "spooled archives left: \(left)")

                // A clone as an operation: its location is the new guest.
                let clone = try await client.send(.post, "/kvm/localhost/guests/\(name)/clone", json: #"{"name": "\#(name)-c"}"#,
                                                  headers: preferAsync)
                #expect(clone.status == 202, "\(clone.text)")
                let cloneLocation = try #require(clone.location)
                let cloned = try #require(try await client.waitForOperation(cloneLocation).last)
                #expect(cloned.object["state"] as? String == "succeeded", "\(cloned.text)")
                let clonedGuest = try #require(cloned.object["location"] as? String)
                #expect(try await client.get(clonedGuest).object["name"] as? String == "\(name)-c")

                // The archive imported back as an operation, once the original is gone.
                #expect(try await client.delete("/kvm/localhost/guests/\(name)").status == 204)
                let imported = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/guests", bytes: archive.body,
                                                     headers: preferAsync)
                #expect(imported.status == 202, "\(imported.text)")
                #expect(imported.object["kind"] as? String == "guest import")
                let importLocation = try #require(imported.location)
                let done = try #require(try await client.waitForOperation(importLocation).last)
                #expect(done.object["state"] as? String == "succeeded", "\(done.text)")
                #expect((done.object["bytes_done"] as? NSNumber)?.uint64Value == UInt64(archive.body.count))
                let guestPath = try #require(done.object["location"] as? String)
                #expect(try await client.get(guestPath).object["name"] as? String == name)
            }
        }

        @Test func cancellingAnImportMidUploadLeavesNothing() async throws {
            try await QemuScratch.with { scratch, client in
                try await ImageImportQemuTests.withWorkDirectory { dir in
                    // 192 MiB of random data: long enough to be cancelled while it converts or uploads.
                    let file = "\(dir)/random.raw"
                    try Tool.check(["dd", "if=/dev/urandom", "of=\(file)", "bs=1M", "count=192", "status=none"])
                    let before = try scratch.volumes()
                    let name = "\(scratch.prefix)-cancel"
                    let res = try await client.send(.post, "/kvm/localhost/storages/\(scratch.pool)/images?name=\(name)",
                                                    bytes: try Data(contentsOf: URL(fileURLWithPath: file)), headers: preferAsync)
                    #expect(res.status == 202, "\(res.text)")
                    let location = try #require(res.location)
                    // Progress moves: wait until the upload into the volume is under way, then cancel.
                    var moving = false
                    let under = ContinuousClock.now + .seconds(120)
                    while !moving, ContinuousClock.now < under {
                        let status = try await client.get(location)
                        let done = (status.object["bytes_done"] as? NSNumber)?.uint64Value ?? 0
                        let total = (status.object["bytes_total"] as? NSNumber)?.uint64Value ?? 0
                        #expect(status.object["state"] as? String == "running", "\(status.text)")
                        if status.object["state"] as? String != "running" { break }
                        moving = done > 0 && done < total
                        if !moving { try await Task.sleep(for: .milliseconds(10)) }
                    }
                    #expect(moving, "the operation never showed an upload in progress")
                    #expect(try scratch.volumes().contains(name), "the partial volume exists while it uploads")
                    let cancelled = try await client.delete(location)
                    #expect(cancelled.status == 200)
                    #expect(cancelled.object["state"] as? String == "cancelled", "\(cancelled.text)")
                    #expect(try await client.get(location).object["state"] as? String == "cancelled")
                    // Nothing left: no volume in the pool, no scratch directory of the server.
                    let deadline = ContinuousClock.now + .seconds(30)
                    while try scratch.volumes() != before, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    #expect(try scratch.volumes() == before)
                    let leftovers = try FileManager.default.contentsOfDirectory(atPath: "/var/tmp")
                        .filter { $0.hasPrefix("guesthouse-image-") || $0.hasPrefix("guesthouse-upload-") }
                    #expect(leftovers.isEmpty, "scratch directories left: \(leftovers)")
                }
            }
        }

        @Test func withoutThePreferenceEverythingStaysSynchronous() async throws {
            try await SurfaceHarness.withTestDriver { c in
                let res = try await c.send(.post, "/test/localhost/guests/guest1/clone", json: #"{"name": "c1"}"#, headers: [:])
                #expect(res.status != 202)
                #expect(res.headers[.init("Preference-Applied")!] == nil)
                let document = try await c.get("/openapi.json")
                for path in ["/{hypervisor}/{host}/storages/{storage_id}/images", "/operations/{operation_id}",
                             "/operations/{operation_id}/result", "/api/images/"] {
                    #expect(document.text.contains("\"\(path)\""), "\(path) is not documented")
                }
            }
        }
    }
}

extension ImageTransferQemuSuites {
    /// The CLI's client against a live server on qemu:///system, in plain-lines mode.
    @Suite struct TransferCLITests {
        static func withLiveQemu(_ body: @escaping @Sendable (QemuScratch, Int) async throws -> Void) async throws {
            let scratch = QemuScratch(prefix: "ghtest-" + UUID().uuidString.prefix(8).lowercased())
            let conn = try Connection(uri: "qemu:///system")
            _ = try conn.defineStoragePool(xml: "<pool type='dir'><name>\(scratch.pool)</name><target><path>/var/lib/guesthouse-tests/\(scratch.pool)</path></target></pool>", build: true)
            defer { scratch.cleanUp(conn) }
            var config = Config()
            config.users["admin"] = UserConfig(name: "admin", passwordHash: SurfaceHarness.passwordHash)
            var family = FamilyConfig()
            family.domainType = "qemu"
            config.families = ["kvm": family]
            let pool = ConnectionPool.standalone()
            let directory = LibvirtDirectory(config: config, pool: pool, executor: pool.executor,
                                             operationTimeout: 600)
            let (router, _) = buildRouter(config: config, directory: directory, authenticator: Authenticator(users: config.users))
            try await Application(router: router).test(.live) { client in
                try await body(scratch, try #require(client.port))
            }
        }

        @Test func theCLIImportsAnImageAndExportsAGuestPrintingPlainLines() async throws {
            try await Self.withLiveQemu { scratch, port in
                try await ImageImportQemuTests.withWorkDirectory { dir in
                    let file = "\(dir)/image.vhdx"
                    try Tool.check(["qemu-img", "convert", "-f", "raw", "-O", "vhdx", try Tool.testImage(), file])
                    let http = HTTPClient(eventLoopGroupProvider: .singleton)
                    do {
                        try await Self.exercise(http, scratch: scratch, port: port, dir: dir, file: file)
                    } catch {
                        try? await http.shutdown()
                        throw error
                    }
                    try await http.shutdown()
                }
            }
        }

        static func exercise(_ http: HTTPClient, scratch: QemuScratch, port: Int, dir: String, file: String) async throws {
            let client = GuesthouseClient(baseURL: "http://127.0.0.1:\(port)", username: "admin", password: "pw", http: http)
            let lines = Locked<[String]>([])
            let display = TransferDisplay(label: "image import", terminal: false) { text in lines.withLock { $0.append(text) } }
            let name = "\(scratch.prefix)-cli"
            let location = try await client.importImage(family: "kvm", host: "localhost", storage: scratch.pool, name: name,
                                                        file: file, display: display)
            #expect(location == "/kvm/localhost/storages/\(scratch.pool)/images/\(name)")
            #expect(try scratch.volumes() == [name])
            let text = lines.withLock { $0.joined() }
            #expect(text.contains("image import: upload"), "\(text)")
            #expect(text.contains("(100%)"), "\(text)")
            #expect(!text.contains("\r") && !text.contains("\u{1B}"), "plain lines only off a terminal")

            // An OVA through the CLI's import, then its export back to a file.
            let ova = try ImageImportQemuTests.buildOVA(in: dir, name: "\(scratch.prefix)-clivm")
            let guest = try await client.importGuest(family: "kvm", host: "localhost", storage: scratch.pool, file: ova,
                                                     name: nil, display: TransferDisplay(label: "import", terminal: false) { _ in })
            #expect(guest.hasPrefix("/kvm/localhost/guests/"))
            let exported = "\(dir)/out.tar"
            let length = try await client.export(family: "kvm", host: "localhost", guest: "\(scratch.prefix)-clivm",
                                                 to: exported, display: TransferDisplay(label: "export", terminal: false) { _ in })
            #expect(length > 0)
            #expect(try Tool.check(["tar", "-tf", exported]).contains("guesthouse.json"))
        let left = try FileManager.default.contentsOfDirectory(atPath: "/var/tmp").filter { $0.hasPrefix("guesthouse-export-") }
        #expect(left.isEmpty, "the CLI deletes the operation once it has the archive; left: \(left)")
        }
    }
}
