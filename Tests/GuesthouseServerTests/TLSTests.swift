import Foundation
import GuesthouseConfig
import GuesthouseLibvirt
import GuesthouseServer
import Hummingbird
import HummingbirdTesting
import HummingbirdTLS
import Logging
import Testing

/// A self-signed certificate for `localhost` and 127.0.0.1, made with openssl in a fresh directory.
struct TestCertificate {
    let directory: String
    var certificate: String { directory + "/cert.pem" }
    var key: String { directory + "/key.pem" }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gh-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let made = try CommandResult.run("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        guard made.status == 0 else { throw CommandFailure(made.stderr) }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

@Suite struct TLSTests {
    /// The whole application as `serve` builds it, on a free loopback port.
    private func application(_ server: TestServer, tls: TLSConfiguration?) throws -> some ApplicationProtocol {
        let directory = LibvirtDirectory(config: server.config, pool: server.pool, executor: server.pool.executor)
        return try buildApplication(config: server.config, directory: directory, logger: Logger(label: "tls-test"),
                                    tls: tls)
    }

    @Test func withACertificateAndKeyTheServerAnswersOverHTTPSAndNotPlainHTTP() async throws {
        let cert = try TestCertificate()
        defer { cert.remove() }
        let server = try TestServer {
            $0.server.port = 0
            $0.server.tlsCertificatePath = cert.certificate
            $0.server.tlsKeyPath = cert.key
            $0.server.sessionSecret = "a secret long enough for sessions"
        }
        let tls = try #require(try ServerTLS.configuration(for: server.config.server, file: "t.toml"))
        try await application(server, tls: tls).test(.ahc(.https)) { client in
            let port = try #require(client.port)
            let health = try await client.call(.get, "/healthz")
            #expect(health.status == .ok && object(health.json)["status"] as? String == "ok")
            // An independent client that trusts only the test certificate.
            let curl = try CommandResult.run("curl", ["-sS", "--max-time", "10", "--cacert", cert.certificate,
                                                      "https://localhost:\(port)/healthz"])
            #expect(curl.status == 0 && curl.stdout == "{\"status\":\"ok\"}", "\(curl.stderr)")
            let plain = try CommandResult.run("curl", ["-sS", "--max-time", "10", "http://127.0.0.1:\(port)/healthz"])
            #expect(plain.status != 0 && !plain.stdout.contains("ok"), "\(plain.stdout)")
            // Cookies the web UI sets travel only over TLS.
            let login = try await client.call(.get, "/login/", headers: [:])
            let cookie = try #require(login.headers[.setCookie])
            #expect(cookie.contains("guesthouse_login=") && cookie.contains("Secure"), "\(cookie)")
        }
    }

    @Test func overPlainHTTPCookiesAreNotMarkedSecure() async throws {
        let server = try TestServer {
            $0.server.port = 0
            $0.server.sessionSecret = "a secret long enough for sessions"
        }
        try await application(server, tls: nil).test(.ahc(.http)) { client in
            let login = try await client.call(.get, "/login/", headers: [:])
            let cookie = try #require(login.headers[.setCookie])
            #expect(cookie.contains("guesthouse_login=") && !cookie.contains("Secure"), "\(cookie)")
        }
    }

    @Test func aMissingOrForeignKeyIsAnErrorNamingServerSSLKey() throws {
        let cert = try TestCertificate()
        let other = try TestCertificate()
        defer { cert.remove(); other.remove() }
        var server = ServerConfig()
        server.tlsCertificatePath = cert.certificate
        server.tlsKeyPath = cert.directory + "/missing.pem"
        let missing = #expect(throws: ConfigError.self) { try ServerTLS.configuration(for: server, file: "g.toml") }
        #expect(missing?.key == "server.ssl_key")
        #expect(missing?.description == "g.toml: server.ssl_key: \(cert.directory)/missing.pem does not exist")

        server.tlsKeyPath = cert.certificate  // a certificate is not a key
        let notAKey = #expect(throws: ConfigError.self) { try ServerTLS.configuration(for: server, file: "g.toml") }
        #expect(notAKey?.key == "server.ssl_key" && notAKey?.message.contains("is not a PEM private key") == true)

        server.tlsKeyPath = other.key  // another certificate's key
        let foreign = #expect(throws: ConfigError.self) { try ServerTLS.configuration(for: server, file: "g.toml") }
        #expect(foreign?.key == "server.ssl_key" && foreign?.message.contains("does not fit") == true, "\(String(describing: foreign))")

        server.tlsKeyPath = cert.key
        server.tlsCertificatePath = cert.key  // a key is not a certificate
        let notACert = #expect(throws: ConfigError.self) { try ServerTLS.configuration(for: server, file: "g.toml") }
        #expect(notACert?.key == "server.ssl_cert")
    }
}
