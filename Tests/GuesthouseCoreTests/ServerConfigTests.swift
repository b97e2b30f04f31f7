import Foundation
import GuesthouseConfig
import Testing

/// `[server]` keys an operator sets for HTTPS, the keys refused rather than ignored, and the summary
/// `guesthouse config check` prints.
@Suite struct ServerConfigTests {
    @Test(arguments: [
        ("[server]\nssl_cert = \"c.pem\"", "server.ssl_key", "is required with server.ssl_cert"),
        ("[server]\nssl_key = \"k.pem\"", "server.ssl_cert", "is required with server.ssl_key"),
        ("[server]\nssl_cert = \"\"\nssl_key = \"k.pem\"", "server.ssl_cert", "must name a PEM file"),
        ("[server]\nstatic_cache = true", "server.static_cache", "is not supported"),
    ])
    func tlsNeedsBothFilesAndUnusedKeysAreRefused(_ text: String, _ key: String, _ fragment: String) {
        do {
            let config = try Config.parse(text, file: "my.toml")
            Issue.record("expected an error for \(key), got \(config.server)")
        } catch let error as ConfigError {
            #expect(error.key == key)
            #expect(error.description.hasPrefix("my.toml: \(key): ") && error.description.contains(fragment),
                    "\(error.description)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func relativeTLSPathsAreTakenFromTheConfigFilesDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gh-cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("guesthouse.toml").path
        try "[server]\nssl_cert = \"tls/cert.pem\"\nssl_key = \"/etc/ssl/key.pem\"\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let config = try Config.load(path: file)
        #expect(config.server.tlsCertificatePath == directory.path + "/tls/cert.pem")
        #expect(config.server.tlsKeyPath == "/etc/ssl/key.pem")
        #expect(config.server.usesTLS)
        #expect(!Config().server.usesTLS)
    }

    @Test func theSummarySaysWhatWouldBeServed() throws {
        let config = try Config.parse("""
        [server]
        listen = "0.0.0.0:8443"
        ssl_cert = "/etc/guesthouse/cert.pem"
        ssl_key = "/etc/guesthouse/key.pem"
        [hypervisor.LOCAL1]
        url = "qemu:///system"
        [user.admin]
        password = "\(ConfigTests.hash)"
        [user.ops]
        password = "\(ConfigTests.hash)"
        """, file: "g.toml")
        let lines = ConfigSummary.lines(config, file: "g.toml", families: ["kvm", "test"])
        #expect(lines == [
            "g.toml: ok",
            "listen:     https://0.0.0.0:8443",
            "tls:        on (certificate /etc/guesthouse/cert.pem, key /etc/guesthouse/key.pem)",
            "providers:  LOCAL1 (qemu:///system)",
            "families:   kvm, test",
            "simplestack hosts: localhost",
            "users:      2",
            "api tokens: off (no [server] token_secret)",
            "web UI:     off (no [server] session_secret)",
            "wirt:       off",
            "containers: off",
            "overlay:    off",
        ])
        let plain = ConfigSummary.lines(Config(), file: "e.toml", families: [])
        #expect(plain.contains("listen:     http://127.0.0.1:8080"))
        #expect(plain.contains { $0.hasPrefix("users:      0 (every authenticated route answers 401") })
    }
}
