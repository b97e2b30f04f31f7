import GuesthouseConfig
import Testing

@Suite struct ConfigTests {
    static let hash = "$2b$10$abcdefghijklmnopqrstuuGkC0YQ5Yf8m5yYBn4f1p3x0P1r7vE1W"

    @Test func readsEveryBlockOfAFullConfiguration() throws {
        let config = try Config.parse("""
        [server]
        listen = "0.0.0.0:9090"
        session_secret = "s3cret"

        [hypervisor.LOCAL1]
        url = "qemu:///system"
        image_storage_pool = "images"
        root_storage_pool = "default"
        network = "guesthouse"
        ignored_vms = ["old"]

        [plan.small]
        memory = 512
        cpus = 1
        disk_size = 5

        [ssh_key.test]
        public = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE test@host"

        [user.admin]
        password = "\(Self.hash)"

        [simplestack]
        hosts = ["localhost", "10.0.0.0/8", "*.example.com"]

        [family.kvm]
        uri = "qemu+tls://{host}/system"
        domain_type = "qemu"
        """, file: "guesthouse.toml")
        #expect(config.server.host == "0.0.0.0" && config.server.port == 9090)
        #expect(config.hypervisors["LOCAL1"]?.url == "qemu:///system")
        #expect(config.hypervisors["LOCAL1"]?.ignoredVMs == ["old"])
        #expect(config.plans["small"] == PlanConfig(name: "small", memoryMiB: 512, cpus: 1, diskSizeGiB: 5))
        #expect(config.sshKeys["test"]?.publicKey.hasPrefix("ssh-ed25519") == true)
        #expect(config.users["admin"]?.passwordHash == Self.hash)
        #expect(config.simplestack.hosts.count == 3)
        #expect(config.families["kvm"]?.domainType == "qemu")
    }

    @Test func anEmptyFileIsTheDefaults() throws {
        let config = try Config.parse("")
        #expect(config.server.port == 8080 && config.server.host == "127.0.0.1")
        #expect(config.simplestack.hosts == ["localhost"])
        #expect(config.server.stopTimeoutSeconds == 30)
    }

    @Test func loginLimitsTrustedProxiesAndTheAuditLogAreRead() throws {
        let defaults = try Config.parse("").server
        #expect(defaults.loginFailuresPerUser == 5 && defaults.loginFailuresPerAddress == 20 && defaults.loginWindowSeconds == 60)
        #expect(defaults.auditLog == nil)
        let server = try Config.parse("""
        [server]
        login_failures_per_user = 3
        login_failures_per_address = 50
        login_window = 120
        trusted_proxies = ["10.0.0.0/8", "192.0.2.1", "fd00::/8"]
        audit_log = "/var/log/guesthouse/audit.jsonl"
        """).server
        #expect(server.loginFailuresPerUser == 3 && server.loginFailuresPerAddress == 50 && server.loginWindowSeconds == 120)
        #expect(server.auditLog == "/var/log/guesthouse/audit.jsonl")
        let ranges = server.trustedProxies.compactMap(AddressRange.init)
        #expect(ranges.count == 3)
        #expect(ranges[0].contains("10.1.2.3") && !ranges[0].contains("11.0.0.1"))
        #expect(ranges[0].contains("::ffff:10.9.9.9"))
        #expect(ranges[1].contains("192.0.2.1") && !ranges[1].contains("192.0.2.2"))
        #expect(ranges[2].contains("fd12::1") && !ranges[2].contains("fe80::1") && !ranges[2].contains("10.1.2.3"))
    }

    @Test func stopTimeoutIsRead() throws {
        #expect(try Config.parse("[server]\nstop_timeout = 90").server.stopTimeoutSeconds == 90)
    }

    @Test(arguments: [
        ("[hypervisor.A]\nimage_storage_pool = \"x\"", "hypervisor.A.url", "is required"),
        ("[hypervisor.A]\nurl = 5", "hypervisor.A.url", "must be a string"),
        ("[plan.p]\nmemory = 512\ncpus = 0\ndisk_size = 1", "plan.p.cpus", "between"),
        ("[user.u]\npassword = \"plain\"", "user.u.password", "bcrypt"),
        ("[server]\nlisten = \"nope\"", "server.listen", "address:port"),
        ("[server]\nlisen = \"x\"", "server.lisen", "unknown key"),
        ("[srever]\nlisten = \"x\"", "srever", "unknown section"),
        ("[ssh_key.k]\npublic = \"not a key\"", "ssh_key.k.public", "OpenSSH"),
        ("[server]\nstop_timeout = 0", "server.stop_timeout", "between 1 and 3600"),
        ("[server]\nstop_timeout = \"30s\"", "server.stop_timeout", "integer"),
        ("[server]\ntrusted_proxies = [\"10.0.0.0/33\"]", "server.trusted_proxies", "CIDR"),
        ("[server]\ntrusted_proxies = [\"proxy.example.com\"]", "server.trusted_proxies", "CIDR"),
        ("[server]\nlogin_failures_per_user = 0", "server.login_failures_per_user", "between"),
        ("[server]\nlogin_window = 0", "server.login_window", "between"),
        ("[server]\naudit_log = \"audit.jsonl\"", "server.audit_log", "absolute"),
    ])
    func errorsNameTheFileAndTheKey(_ text: String, _ key: String, _ fragment: String) {
        do {
            _ = try Config.parse(text, file: "my.toml")
            Issue.record("expected an error for \(key)")
        } catch let error as ConfigError {
            #expect(error.file == "my.toml")
            #expect(error.key == key)
            #expect(error.description.contains(fragment), "\(error.description)")
            #expect(error.description.hasPrefix("my.toml: \(key): "))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func aSyntaxErrorNamesTheLine() {
        #expect(throws: ConfigError.self) { try Config.parse("[server\nlisten = 1", file: "bad.toml") }
    }
}
