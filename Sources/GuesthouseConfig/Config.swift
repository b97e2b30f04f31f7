import GuesthouseCore

/// Guesthouse's whole configuration, loaded once from one TOML file (or the embedded default).
public struct Config: Sendable, Equatable {
    public var server = ServerConfig()
    /// vmango's "providers", by name.
    public var hypervisors: [String: HypervisorConfig] = [:]
    public var plans: [String: PlanConfig] = [:]
    public var sshKeys: [String: SSHKeyConfig] = [:]
    /// Server users with bcrypt password hashes, by name.
    public var users: [String: UserConfig] = [:]
    public var simplestack = SimplestackConfig()
    /// Per-family overrides of the built-in Simplestack family table, by family name.
    public var families: [String: FamilyConfig] = [:]
    /// `[wirt]`: the file interface for local users; nil when the section is absent.
    public var wirt: WirtConfig?
    /// `[containers]` and `[overlay]` (ContainersConfig.swift); nil when absent.
    public var containers: ContainersConfig?
    public var overlay: OverlayConfig?

    public init() {}
}

/// `[server]`
public struct ServerConfig: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var sessionSecret: String?
    /// `trusted_proxies`: peers (addresses or CIDRs) whose `X-Forwarded-For` names the client.
    public var trustedProxies: [String] = []
    /// Failed logins for one user name within `loginWindowSeconds` before further attempts answer 429.
    public var loginFailuresPerUser = 5
    /// Failed logins from one source address within `loginWindowSeconds` before further attempts answer 429.
    public var loginFailuresPerAddress = 20
    /// The window failed logins are counted in, in seconds.
    public var loginWindowSeconds = 60
    /// `audit_log`: the file every change is appended to as a JSON line; nil: the logger only.
    public var auditLog: String?
    /// `token_secret`: the HS256 key API tokens are signed with; nil: no token is accepted.
    public var tokenSecret: String?
    /// `revoked_tokens`: ids (`jti`) of tokens refused although their signature is right.
    public var revokedTokens: [String] = []
    /// `ssl_cert`: the PEM certificate chain served over HTTPS; set together with `tlsKeyPath`.
    public var tlsCertificatePath: String?
    /// `ssl_key`: the PEM private key of `tlsCertificatePath`.
    public var tlsKeyPath: String?
    /// Whether HTTPS is asked for (both `ssl_cert` and `ssl_key` are set).
    public var usesTLS: Bool { tlsCertificatePath != nil && tlsKeyPath != nil }
    /// How long a libvirt connection may take to open before the request answers 502, in seconds.
    public var connectTimeoutSeconds: Double = 10
    /// How long a graceful `stop` waits for the guest to be off before it answers 409, in seconds.
    public var stopTimeoutSeconds: Double = 30
    /// `[server] metrics_listen`: a separate address for `GET /metrics` without credentials (for a
    /// Prometheus on a management network); without it, `/metrics` is on `listen` with credentials.
    public var metricsListen: (host: String, port: Int)? {
        get { metricsHost.map { ($0, metricsPort) } }
        set { metricsHost = newValue?.host; metricsPort = newValue?.port ?? 0 }
    }
    var metricsHost: String?
    var metricsPort = 0
    /// Keys that are accepted but no longer do anything, with what to do instead (logged at start).
    public var deprecations: [String] = []
    public init() {}
}

/// `[hypervisor.NAME]`: one libvirt provider.
public struct HypervisorConfig: Sendable, Equatable {
    public var name: String
    public var url: String
    public var imageStoragePool: String?
    public var rootStoragePool: String?
    public var network: String?
    public var vmTemplate: String?
    public var volumeTemplate: String?
    public var ignoredVMs: [String] = []

    public init(name: String, url: String) {
        self.name = name
        self.url = url
    }
}

/// `[plan.NAME]`: the size of a machine, the same value the vmango API creates machines with.
public typealias PlanConfig = MachinePlan

/// `[ssh_key.NAME]`
public struct SSHKeyConfig: Sendable, Equatable {
    public var name: String
    public var publicKey: String
    public init(name: String, publicKey: String) {
        self.name = name
        self.publicKey = publicKey
    }
}

/// `[user.NAME]`
public struct UserConfig: Sendable, Equatable {
    public var name: String
    /// A bcrypt hash (`$2a$`, `$2b$` or `$2y$`).
    public var passwordHash: String
    /// `role`: what the user may reach; admin unless the config says otherwise.
    public var role: UserRole = .admin
    /// `[user.NAME.quota]`: the most the user's machines may add up to; nil: no limit.
    public var quota: UserQuota?
    public init(name: String, passwordHash: String, role: UserRole = .admin, quota: UserQuota? = nil) {
        self.name = name
        self.passwordHash = passwordHash
        self.role = role
        self.quota = quota
    }
}

/// `[user.NAME] role`.
public enum UserRole: String, Sendable, Equatable, CaseIterable {
    /// Everything, on every interface.
    case admin
    /// The vmango API, the web UI and the container API, on the machines and containers the user
    /// created only; the Simplestack API, the audit log and metrics answer 403.
    case member
}

/// `[user.NAME.quota]`: limits on what the user's machines (those whose Creator is the user, on every
/// provider) add up to. A limit left out is no limit.
public struct UserQuota: Sendable, Equatable {
    /// How many machines.
    public var machines: Int?
    /// Virtual CPUs in all.
    public var cpus: Int?
    /// Memory in all, in MiB.
    public var memoryMiB: Int?
    /// Disk in all, in GiB.
    public var diskGiB: Int?
    public init(machines: Int? = nil, cpus: Int? = nil, memoryMiB: Int? = nil, diskGiB: Int? = nil) {
        self.machines = machines
        self.cpus = cpus
        self.memoryMiB = memoryMiB
        self.diskGiB = diskGiB
    }
}

/// `[simplestack]`
public struct SimplestackConfig: Sendable, Equatable {
    /// Hosts a request may name: names, addresses, CIDRs or `*.domain` patterns.
    public var hosts: [String] = ["localhost"]
    public init() {}
}

/// `[family.NAME]`: overrides of one Simplestack family's defaults.
public struct FamilyConfig: Sendable, Equatable {
    /// URI template for hosts other than localhost; `{host}` is replaced.
    public var uri: String?
    /// URI for `localhost`.
    public var localURI: String?
    /// Domain type of new guests.
    public var domainType: String?
    public init() {}
}

/// `[wirt]`: the spool that lets members of a group control their guests by writing files.
public struct WirtConfig: Sendable, Equatable {
    /// The `[hypervisor.*]` the users' guests live on; nil means the only one configured.
    public var provider: String?
    /// Members of this group may use the file interface.
    public var group = "vmguests"
    /// Seconds between safety-net rescans; changes are otherwise picked up from inotify at once.
    public var rescanSeconds: Double = 30
    /// Largest command file accepted, in bytes.
    public var maxFileBytes = 4096
    /// Most command files handled per user in one pass; the rest wait for the next pass.
    public var maxFilesPerPass = 32
    /// Most VM directories looked at per user in one pass.
    public var maxVMsPerUser = 64
    /// A VM log is rotated (and gzipped) past this size, in bytes.
    public var logMaxBytes = 1 << 20
    /// How many rotated logs are kept.
    public var logKeep = 3
    /// How many processed command files are kept in `~/wirt/logs/history`.
    public var historyKeep = 200
    /// Upper bounds a `config` command may set.
    public var maxMemoryMiB = 65536
    public var maxCpus = 64

    public init() {}
}
