import TOMLKit

extension TableReader {
    /// `[user.NAME]`: its bcrypt password, `role` (admin by default) and `[user.NAME.quota]`.
    func user(_ name: String, _ t: TOMLTable) throws -> UserConfig {
        let path = "user.\(name)"
        try onlyKeys(t, ["password", "role", "quota"], path: path)
        let hash = try string(t, "password", path: path, required: true)!
        guard ["$2a$", "$2b$", "$2y$"].contains(where: hash.hasPrefix), hash.count == 60 else {
            throw fail("\(path).password", "must be a bcrypt hash; `guesthouse genpw PASSWORD` prints one")
        }
        var user = UserConfig(name: name, passwordHash: hash)
        if let text = try string(t, "role", path: path) {
            guard let role = UserRole(rawValue: text) else {
                throw fail("\(path).role", "must be \"admin\" or \"member\", not \"\(text)\"")
            }
            user.role = role
        }
        if let q = try table(t, "quota", path: "\(path).quota") {
            let qpath = "\(path).quota"
            try onlyKeys(q, ["machines", "cpus", "memory", "disk"], path: qpath)
            user.quota = UserQuota(machines: try int(q, "machines", path: qpath, range: 0...1_000_000),
                                   cpus: try int(q, "cpus", path: qpath, range: 0...1_000_000),
                                   memoryMiB: try int(q, "memory", path: qpath, range: 0...1 << 40),
                                   diskGiB: try int(q, "disk", path: qpath, range: 0...1 << 30))
        }
        return user
    }

    /// `[server] token_secret` and `revoked_tokens`.
    func readTokens(_ s: TOMLTable, into server: inout ServerConfig) throws {
        if let secret = try string(s, "token_secret", path: "server") {
            // HS256 wants a key at least as long as its output; a short one is guessable offline.
            guard secret.utf8.count >= 32 else {
                throw fail("server.token_secret", "must be at least 32 characters (e.g. `openssl rand -hex 32`)")
            }
            server.tokenSecret = secret
        }
        server.revokedTokens = try strings(s, "revoked_tokens", path: "server") ?? []
    }
}
