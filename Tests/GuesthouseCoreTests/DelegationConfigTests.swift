import GuesthouseConfig
import Testing

/// `[user.NAME] role`, `[user.NAME.quota]`, `[server] token_secret` and `revoked_tokens`.
@Suite struct DelegationConfigTests {
    static let hash = ConfigTests.hash

    @Test func rolesDefaultToAdminAndQuotasAreRead() throws {
        let config = try Config.parse("""
        [server]
        token_secret = "0123456789abcdef0123456789abcdef"
        revoked_tokens = ["a1", "b2"]

        [user.old]
        password = "\(Self.hash)"

        [user.alice]
        password = "\(Self.hash)"
        role = "member"

        [user.alice.quota]
        machines = 2
        cpus = 4
        memory = 2048
        disk = 40
        """)
        #expect(config.users["old"]?.role == .admin)
        #expect(config.users["old"]?.quota == nil)
        #expect(config.users["alice"]?.role == .member)
        #expect(config.users["alice"]?.quota == UserQuota(machines: 2, cpus: 4, memoryMiB: 2048, diskGiB: 40))
        #expect(config.server.tokenSecret == "0123456789abcdef0123456789abcdef")
        #expect(config.server.revokedTokens == ["a1", "b2"])
        let summary = ConfigSummary.lines(config, file: "f.toml", families: [])
        #expect(summary.contains("users:      2 (1 member, 1 with a quota)"))
        #expect(summary.contains("api tokens: on (2 revoked)"))
        #expect(!summary.joined().contains("0123456789abcdef"))
    }

    @Test(arguments: [
        ("[user.a]\npassword = \"\(hash)\"\nrole = \"root\"", "user.a.role"),
        ("[user.a]\npassword = \"\(hash)\"\n[user.a.quota]\nmachines = -1", "user.a.quota.machines"),
        ("[user.a]\npassword = \"\(hash)\"\n[user.a.quota]\ngpus = 1", "user.a.quota.gpus"),
        ("[user.a]\npassword = \"\(hash)\"\nquota = 3", "user.a.quota"),
        ("[server]\ntoken_secret = \"short\"", "server.token_secret"),
        ("[server]\nrevoked_tokens = \"a1\"", "server.revoked_tokens"),
    ])
    func badValuesNameTheirKey(text: String, key: String) throws {
        let error = try #require(throws: ConfigError.self) { try Config.parse(text, file: "f.toml") }
        #expect(error.key == key)
        #expect(error.file == "f.toml")
    }

    @Test func anUnknownRoleSaysWhatIsAllowed() throws {
        let error = try #require(throws: ConfigError.self) {
            try Config.parse("[user.a]\npassword = \"\(Self.hash)\"\nrole = \"root\"")
        }
        #expect(error.message.contains("\"admin\" or \"member\""))
    }
}
