import Foundation
import HummingbirdBcrypt
import Testing

/// `guesthouse --version`, `guesthouse config check FILE` and a `serve` that refuses a bad TLS key,
/// run as an operator runs them: the built executable, its exit status and what it prints.
@Suite struct OperatorCommandTests {
    private func withConfig(_ text: String, _ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gh-op-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("guesthouse.toml").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        try body(file)
    }

    @Test func versionPrintsOneVersion() throws {
        let result = try CommandResult.run(CommandResult.guesthouse, ["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.range(of: #"^[0-9]+\.[0-9]+\.[0-9]+\n$"#, options: .regularExpression) != nil,
                "\(result.stdout)")
    }

    @Test func configCheckPrintsWhatAValidConfigWouldServe() throws {
        try withConfig("""
        [server]
        listen = "127.0.0.1:18443"
        [hypervisor.LOCAL1]
        url = "qemu:///system"
        [user.admin]
        password = "\(Bcrypt.hash("pw", cost: 4))"
        """) { file in
            let result = try CommandResult.run(CommandResult.guesthouse, ["config", "check", file])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "\(file): ok")
            #expect(lines.contains("listen:     http://127.0.0.1:18443"))
            #expect(lines.contains("tls:        off (set [server] ssl_cert and ssl_key for HTTPS)"))
            #expect(lines.contains("providers:  LOCAL1 (qemu:///system)"))
            #expect(lines.contains { $0.hasPrefix("families:") && $0.contains("kvm") && $0.contains("lxc") })
            #expect(lines.contains("users:      1"))
        }
    }

    @Test func configCheckNamesTheFileAndKeyOfAnErrorAndExitsOne() throws {
        try withConfig("[plan.p]\nmemory = 512\ncpus = 0\ndisk_size = 1\n") { file in
            let result = try CommandResult.run(CommandResult.guesthouse, ["config", "check", file])
            #expect(result.status == 1)
            #expect(result.stderr == "\(file): plan.p.cpus: must be between 1 and 1024\n", "\(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func aBadKeyPathStopsCheckAndServeNamingServerSSLKey() throws {
        let cert = try TestCertificate()
        defer { cert.remove() }
        try withConfig("""
        [server]
        listen = "127.0.0.1:0"
        ssl_cert = "\(cert.certificate)"
        ssl_key = "\(cert.directory)/nope.pem"
        """) { file in
            let expected = "\(file): server.ssl_key: \(cert.directory)/nope.pem does not exist"
            let check = try CommandResult.run(CommandResult.guesthouse, ["config", "check", file])
            #expect(check.status == 1 && check.stderr == expected + "\n", "\(check.stderr)")
            let serve = try CommandResult.run(CommandResult.guesthouse, ["serve", "--config", file])
            #expect(serve.status != 0 && serve.stderr.contains(expected), "\(serve.stderr)")
        }
    }

    @Test func configCheckReadsTheTLSFilesAndSaysHTTPS() throws {
        let cert = try TestCertificate()
        defer { cert.remove() }
        try withConfig("""
        [server]
        listen = "0.0.0.0:8443"
        ssl_cert = "\(cert.certificate)"
        ssl_key = "\(cert.key)"
        """) { file in
            let result = try CommandResult.run(CommandResult.guesthouse, ["config", "check", file])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("listen:     https://0.0.0.0:8443\n"))
            #expect(result.stdout.contains("tls:        on (certificate \(cert.certificate), key \(cert.key))"))
        }
    }
}
