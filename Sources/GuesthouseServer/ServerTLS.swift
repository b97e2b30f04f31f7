import Foundation
import GuesthouseConfig
import NIOSSL

/// HTTPS as `[server] ssl_cert` and `ssl_key` ask for it: both PEM files read and checked before
/// the server starts, so a bad file stops the start instead of failing each connection.
public enum ServerTLS {
    /// The TLS configuration `server` asks for, or nil for plain HTTP (neither key set).
    /// - Parameter file: the configuration file, named in errors.
    /// - Throws: `ConfigError` naming `server.ssl_cert` or `server.ssl_key` when its file is missing,
    ///   unreadable or not PEM, or when the key does not belong to the certificate.
    public static func configuration(for server: ServerConfig, file: String) throws -> TLSConfiguration? {
        guard let certificatePath = server.tlsCertificatePath, let keyPath = server.tlsKeyPath else { return nil }
        let chain = try read(certificatePath, key: "server.ssl_cert", file: file, what: "a PEM certificate") {
            try NIOSSLCertificate.fromPEMBytes($0)
        }
        guard !chain.isEmpty else {
            throw ConfigError(file: file, key: "server.ssl_cert", message: "\(certificatePath) holds no PEM certificate")
        }
        let privateKey = try read(keyPath, key: "server.ssl_key", file: file, what: "a PEM private key") {
            try NIOSSLPrivateKey(bytes: $0, format: .pem)
        }
        let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                           privateKey: .privateKey(privateKey))
        do {
            _ = try NIOSSLContext(configuration: tls)
        } catch {
            throw ConfigError(file: file, key: "server.ssl_key",
                              message: "\(keyPath) does not fit the certificate in \(certificatePath) (\(error))")
        }
        return tls
    }

    private static func read<T>(_ path: String, key: String, file: String, what: String,
                                _ parse: ([UInt8]) throws -> T) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "is not readable" : "does not exist"
            throw ConfigError(file: file, key: key, message: "\(path) \(reason)")
        }
        do {
            return try parse(Array(data))
        } catch {
            throw ConfigError(file: file, key: key, message: "\(path) is not \(what) (\(error))")
        }
    }
}
