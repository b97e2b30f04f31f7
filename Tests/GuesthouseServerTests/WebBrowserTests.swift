import Foundation
import GuesthouseTestSupport
import Libvirt
import Testing

/// The web UI in headless Chromium: `Tests/browser/web_ui_pages.py` starts `guesthouse serve` on the
/// embedded demo, logs in, and loads every page at 390x844 (no sideways scroll, no CSP violation,
/// the style sheet applied, WCAG AA contrast of every text) and at 1280x800, tabs through the machine
/// page (every control reached with a visible focus ring), saving screenshots of each to the folder it prints
/// (`$GUESTHOUSE_SCREENSHOTS`, default /var/tmp/guesthouse-screenshots).
/// Needs Debian's `chromium` and `chromium-driver` and selenium in /opt/guesthouse-venv (scripts/setup).
@Suite(.serialized) struct WebBrowserTests {
    static let python = "/opt/guesthouse-venv/bin/python"

    /// The repository's root and the built `guesthouse`, once the browser tools are known to be there.
    static func tools() throws -> (root: URL, executable: String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("guesthouse").path
        try #require(FileManager.default.isExecutableFile(atPath: executable), "build the guesthouse executable first")
        try #require(FileManager.default.isExecutableFile(atPath: python), "run scripts/setup (selenium venv)")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"), "run scripts/setup (chromium-driver)")
        return (root, executable)
    }

    @Test(.timeLimit(.minutes(5))) func everyPageFitsAPhoneAndRendersOnTheDesktop() async throws {
        let (root, executable) = try Self.tools()
        let screenshots = ProcessInfo.processInfo.environment["GUESTHOUSE_SCREENSHOTS"] ?? "/var/tmp/guesthouse-screenshots"
        // Old screenshots must not pass for new ones.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: screenshots)) ?? []
        where name.hasSuffix(".png") && !name.contains("-qemu-") && !name.hasPrefix("console-") {
            try FileManager.default.removeItem(atPath: "\(screenshots)/\(name)")
        }

        let (status, text) = try await Self.runAsync([Self.python, root.appendingPathComponent("Tests/browser/web_ui_pages.py").path,
                                           executable, screenshots])
        print(text)
        #expect(status == 0, "\(text)")
        #expect(text.contains("screenshots: \(screenshots)"))

        // Every page at both sizes was checked and photographed.
        let pages = ["login", "status", "machines", "machine", "add", "images", "containers", "error", "confirm"]
        for page in pages {
            for size in ["phone", "desktop"] {
                #expect(text.contains("\(size) \(page): scrollWidth"), "\(size) \(page) not loaded")
                let file = "\(screenshots)/\(page)-\(size).png"
                let attributes = try? FileManager.default.attributesOfItem(atPath: file)
                #expect(((attributes?[.size] as? Int) ?? 0) > 1000, "\(file) missing or empty")
                // A PNG, not an error page saved under the name.
                let head = FileManager.default.contents(atPath: file)?.prefix(8) ?? Data()
                #expect(head == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
            }
            #expect(text.contains("phone \(page): scrollWidth") && !text.contains("phone \(page): scrolls sideways"))
        }
        // Keyboard: Tab reaches the menu, log out and the actions, each with a visible focus ring.
        #expect(text.contains("phone keyboard: Tab reaches") && text.contains("desktop keyboard: Tab reaches"))
        #expect(!text.contains("FAIL"))
    }

    /// The real-guest flow (`Tests/browser/web_ui_machine_flow.py`) on a scratch vmango provider on
    /// qemu:///system holding the tiny test image: create from the form and see it listed, snapshot and
    /// revert, stop, the badge following a start without a reload, the export downloaded with the web
    /// session and read by GNU tar, delete; the pages on the way at 390x844. Everything the scratch
    /// prefix names (the machine too) is removed afterwards, also on failure.
    @Test(.timeLimit(.minutes(15))) func aRealMachineIsCreatedSnapshottedStoppedExportedAndDeletedInTheBrowser() async throws {
        let (root, executable) = try Self.tools()
        let image = try VmangoQemuTests.imagePath()
        let screenshots = ProcessInfo.processInfo.environment["GUESTHOUSE_SCREENSHOTS"] ?? "/var/tmp/guesthouse-screenshots"

        for name in (try? FileManager.default.contentsOfDirectory(atPath: screenshots)) ?? []
        where name.hasSuffix(".png") && name.contains("-qemu-") {
            try FileManager.default.removeItem(atPath: "\(screenshots)/\(name)")
        }
        let prefix = "ghweb-" + UUID().uuidString.prefix(8).lowercased()
        let scratch = try ScratchProvider.make(prefix: prefix)
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix).toml")
        defer {
            scratch.tearDown()
            try? FileManager.default.removeItem(at: config)
        }
        try scratch.addImage(name: VmangoQemuTests.image, copying: image)
        try scratch.addImage(name: "rescue.iso", bytes: 1 << 20)
        try """
            [server]
            session_secret = "\(UUID().uuidString)"

            [hypervisor.QEMU1]
            url = "qemu:///system"
            image_storage_pool = "\(scratch.imagePool)"
            root_storage_pool = "\(scratch.rootPool)"
            network = "\(scratch.network)"

            [plan.tiny]
            memory = 192
            cpus = 1
            disk_size = 1

            [user.admin]
            password = "\(TestServer.passwordHash)"

            [family.kvm]
            local_uri = "qemu:///system"
            domain_type = "qemu"
            """.write(to: config, atomically: true, encoding: .utf8)

        let name = prefix + "-vm"
        let (status, text) = try await Self.runAsync([Self.python, root.appendingPathComponent("Tests/browser/web_ui_machine_flow.py").path,
                                                      executable, config.path, TestServer.password, name, screenshots],
                                                     seconds: 840)
        print(text)
        #expect(status == 0, "\(text)")
        for step in ["is listed", "snapshot 'first' listed", "reverted to 'first'", "stopped",
                     "the badge turned 'running' without a reload", "export:", "a disk added",
                     "the disk grown to 2 GiB", "rescue.iso inserted", "rescue.iso ejected",
                     "is gone from the list"] {
            #expect(text.contains("ok   ") && text.components(separatedBy: "\n").contains { $0.hasPrefix("ok   ") && $0.contains(step) },
                    "step \(step) not passed")
        }
        for page in ["status", "machines", "machine", "add", "containers", "confirm-delete"] {
            #expect(text.contains("ok   phone \(page): scrollWidth"), "phone \(page)")
            let file = "\(screenshots)/\(page)-qemu-phone.png"
            #expect(((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int ?? 0) > 1000, "\(file)")
        }
        #expect(!text.contains("FAIL"))
        // The machine is gone from libvirt with its volumes, not only from the page.
        let conn = try Connection(uri: "qemu:///system")
        #expect((try? conn.domain(name: name)) == nil)
        #expect(try scratch.leftovers().volumes.isEmpty)
    }

    /// The containers pages (list with a container, a container's page, the create form with its
    /// problems beside the fields) at 390x844 and 1280x800, from a server in this process over the
    /// in-memory container service (the demo `serve` runs has no containers).
    @Test(.timeLimit(.minutes(5))) func theContainersPagesFitAPhone() async throws {
        let (root, _) = try Self.tools()
        let screenshots = ProcessInfo.processInfo.environment["GUESTHOUSE_SCREENSHOTS"] ?? "/var/tmp/guesthouse-screenshots"
        let containers = try await WebUITests.containers()
        try await WebUITests.server().run(containers: containers) { client in
            let port = try #require(client.port)
            let (status, text) = try await Self.runAsync([
                Self.python, root.appendingPathComponent("Tests/browser/web_ui_pages.py").path, "--server",
                "http://127.0.0.1:\(port)", TestServer.password, screenshots,
                "containers-list=/containers/", "container=/containers/5/",
            ])
            print(text)
            #expect(status == 0, "\(text)")
            for page in ["containers-list", "container"] {
                for size in ["phone", "desktop"] {
                    #expect(text.contains("\(size) \(page): scrollWidth"), "\(size) \(page) not loaded")
                }
            }
            #expect(!text.contains("FAIL"))
        }
    }

    /// Runs a program without blocking a thread of the cooperative pool (the server under test
    /// shares it): the process is polled, with a deadline.
    static func runAsync(_ arguments: [String], seconds: Double = 240) async throws -> (status: Int32, output: String) {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("gh-browser-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now + .seconds(seconds)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                Issue.record("\(arguments[1]) did not finish within \(seconds) s")
                break
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        process.waitUntilExit()
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        return (process.terminationStatus, text)
    }
}
