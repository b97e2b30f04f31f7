import TOMLKit

extension TableReader {
    /// `[server] ssl_cert` and `ssl_key` (both or neither), and the vmango key guesthouse refuses
    /// rather than accept and ignore. The files themselves are read when the server starts
    /// (`ServerTLS` in GuesthouseServer), which names the key of a file it cannot use.
    func readTLS(_ s: TOMLTable, into server: inout ServerConfig) throws {
        server.tlsCertificatePath = try string(s, "ssl_cert", path: "server")
        server.tlsKeyPath = try string(s, "ssl_key", path: "server")
        switch (server.tlsCertificatePath, server.tlsKeyPath) {
        case (nil, .some):
            throw fail("server.ssl_cert", "is required with server.ssl_key: HTTPS needs both")
        case (.some, nil):
            throw fail("server.ssl_key", "is required with server.ssl_cert: HTTPS needs both")
        default:
            break
        }
        if server.tlsCertificatePath == "" { throw fail("server.ssl_cert", "must name a PEM file") }
        if server.tlsKeyPath == "" { throw fail("server.ssl_key", "must name a PEM file") }
        if s["static_cache"] != nil {
            throw fail("server.static_cache", "is not supported: guesthouse serves no static files (its web "
                + "pages are built in and sent with Cache-Control: no-store); remove the key")
        }
    }
}
