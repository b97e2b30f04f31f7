import Foundation
import Testing

/// The web UI in headless Chromium: `Tests/browser/web_ui_pages.py` starts `guesthouse serve` on the
/// embedded demo, logs in, and loads every page at 390x844 (no sideways scroll, no CSP violation,
/// the style sheet applied, WCAG AA contrast of every text) and at 1280x800, tabs through the machine
/// page (every control reached with a visible focus ring), saving screenshots of each to the folder it prints
/// (`$GUESTHOUSE_SCREENSHOTS`, default /var/tmp/guesthouse-screenshots).
/// Needs Debian's `chromium` and `chromium-driver` and selenium in /opt/guesthouse-venv (scripts/setup).
@Suite struct WebBrowserTests {
    static let python = "/opt/guesthouse-venv/bin/python"

    @Test(.timeLimit(.minutes(5))) func everyPageFitsAPhoneAndRendersOnTheDesktop() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("guesthouse").path
        try #require(FileManager.default.isExecutableFile(atPath: executable), "build the guesthouse executable first")
        try #require(FileManager.default.isExecutableFile(atPath: Self.python), "run scripts/setup (selenium venv)")
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"), "run scripts/setup (chromium-driver)")
        let screenshots = ProcessInfo.processInfo.environment["GUESTHOUSE_SCREENSHOTS"] ?? "/var/tmp/guesthouse-screenshots"
        // Old screenshots must not pass for new ones.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: screenshots)) ?? [] where name.hasSuffix(".png") {
            try FileManager.default.removeItem(atPath: "\(screenshots)/\(name)")
        }

        let (status, text) = try Tool.run([Self.python, root.appendingPathComponent("Tests/browser/web_ui_pages.py").path,
                                           executable, screenshots])
        print(text)
        #expect(status == 0, "\(text)")
        #expect(text.contains("screenshots: \(screenshots)"))

        // Every page at both sizes was checked and photographed.
        let pages = ["login", "status", "machines", "machine", "add", "images", "error"]
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
}
