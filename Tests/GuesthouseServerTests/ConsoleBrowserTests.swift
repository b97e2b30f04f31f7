import Foundation
import Testing

/// The consoles in headless Chromium on a real `qemu:///system` guest made by vmango from the tiny
/// test image: `Tests/browser/console_pages.py` logs in through the form, reads the guest's boot
/// output in the serial console page (term.js) and sees noVNC connected with the guest's screen
/// drawn on its canvas; screenshots go to `$GUESTHOUSE_SCREENSHOTS` (default /var/tmp/guesthouse-screenshots).
/// Needs Debian's `chromium`, `chromium-driver`, `novnc`, `libjs-term.js` and selenium in
/// /opt/guesthouse-venv (scripts/setup).
@Suite(.serialized) struct ConsoleBrowserTests {
    /// Runs a tool on a thread of its own (the server under test keeps the cooperative pool).
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await offPool { try Tool.run(arguments) }
    }

    @Test(.timeLimit(.minutes(10))) func theSerialPageShowsTheBootAndNoVNCConnects() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        try #require(FileManager.default.isExecutableFile(atPath: WebBrowserTests.python), "run scripts/setup (selenium venv)")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"), "run scripts/setup (chromium-driver)")
        try #require(FileManager.default.fileExists(atPath: "/usr/share/novnc/core/rfb.js"), "run scripts/setup (novnc)")
        try #require(FileManager.default.fileExists(atPath: "/usr/share/javascript/term.js/term.js"), "run scripts/setup (libjs-term.js)")
        let screenshots = ProcessInfo.processInfo.environment["GUESTHOUSE_SCREENSHOTS"] ?? "/var/tmp/guesthouse-screenshots"
        let names = ["console-serial-desktop", "console-vnc-desktop", "console-serial-phone", "console-vnc-phone"]
        // Old screenshots must not pass for new ones.
        for name in names { try? FileManager.default.removeItem(atPath: "\(screenshots)/\(name).png") }

        try await ConsoleQemuTests.withMachine { port, _, name in
            let (status, text) = try await Self.run([WebBrowserTests.python,
                                                     root.appendingPathComponent("Tests/browser/console_pages.py").path,
                                                     "http://localhost:\(port)", TestServer.password, "QEMU1", name, name,
                                                     screenshots])
            print(text)
            #expect(status == 0, "\(text)")
            #expect(text.contains("serial: read GUESTHOUSE-BOOTED in the page"))
            #expect(text.contains("vnc: noVNC connected, canvas") && text.contains("drawn: True"))
            #expect(!text.contains("FAIL"))
        }
        for name in names {
            let head = FileManager.default.contents(atPath: "\(screenshots)/\(name).png")?.prefix(8) ?? Data()
            #expect(head == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "\(name).png missing")
        }
    }
}
