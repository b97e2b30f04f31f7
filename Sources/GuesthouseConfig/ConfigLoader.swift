import Foundation
import GuesthouseCore
import TOMLKit

/// A configuration problem, naming the file and the key.
public struct ConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public var file: String
    public var key: String
    public var message: String
    public var description: String { key.isEmpty ? "\(file): \(message)" : "\(file): \(key): \(message)" }

    public init(file: String, key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }
}

extension Config {
    /// The sections a configuration file may hold. Sections owned by other parts (wirt, containers,
    /// overlay) are accepted here and read by those parts.
    static let knownSections: Set<String> = [
        "server", "hypervisor", "plan", "ssh_key", "user", "simplestack", "family", "wirt", "containers", "overlay",
    ]

    /// Loads and validates a TOML configuration file.
    /// - Throws: `ConfigError` naming the file and the offending key.
    public static func load(path: String) throws -> Config {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, key: "", message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
            .resolvingServerFiles(against: URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    /// This config with relative `ssl_cert` and `ssl_key` paths taken relative to `directory`.
    func resolvingServerFiles(against directory: String) -> Config {
        var resolved = self
        func resolve(_ path: String?) -> String? {
            guard let path, !path.hasPrefix("/") else { return path }
            return URL(fileURLWithPath: directory).appendingPathComponent(path).path
        }
        resolved.server.tlsCertificatePath = resolve(server.tlsCertificatePath)
        resolved.server.tlsKeyPath = resolve(server.tlsKeyPath)
        return resolved
    }

    /// Parses and validates TOML text; `file` names it in errors.
    public static func parse(_ text: String, file: String = "config") throws -> Config {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError(file: file, key: "",
                              message: "line \(error.source.begin.line): \(error.description)")
        }
        var reader = TableReader(file: file)
        return try reader.config(table)
    }
}

/// Reads typed values out of TOML tables, naming the full key in every error.
struct TableReader {
    let file: String

    func fail(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: file, key: key, message: message)
    }

    func table(_ parent: TOMLTable, _ key: String, path: String) throws -> TOMLTable? {
        guard let value = parent[key] else { return nil }
        guard let t = value.table else { throw fail(path, "must be a table") }
        return t
    }

    func string(_ t: TOMLTable, _ key: String, path: String, required: Bool = false) throws -> String? {
        guard let value = t[key] else {
            if required { throw fail("\(path).\(key)", "is required") }
            return nil
        }
        guard let s = value.string else { throw fail("\(path).\(key)", "must be a string") }
        return s
    }

    func int(_ t: TOMLTable, _ key: String, path: String, range: ClosedRange<Int>, required: Bool = false) throws -> Int? {
        guard let value = t[key] else {
            if required { throw fail("\(path).\(key)", "is required") }
            return nil
        }
        guard let i = value.int else { throw fail("\(path).\(key)", "must be an integer") }
        guard range.contains(i) else {
            throw fail("\(path).\(key)", "must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return i
    }

    func strings(_ t: TOMLTable, _ key: String, path: String) throws -> [String]? {
        guard let value = t[key] else { return nil }
        guard let array = value.array else { throw fail("\(path).\(key)", "must be an array of strings") }
        return try array.map { element in
            guard let s = element.string else { throw fail("\(path).\(key)", "must be an array of strings") }
            return s
        }
    }

    func onlyKeys(_ t: TOMLTable, _ allowed: Set<String>, path: String) throws {
        for key in t.keys where !allowed.contains(key) {
            throw fail("\(path).\(key)", "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    func named(_ root: TOMLTable, _ section: String) throws -> [(String, TOMLTable)] {
        guard let t = try table(root, section, path: section) else { return [] }
        return try t.keys.sorted().map { name in
            guard let sub = t[name]?.table else { throw fail("\(section).\(name)", "must be a table") }
            return (name, sub)
        }
    }

    /// "host:port" (IPv6 in brackets; an empty host is every address).
    func address(_ text: String, key: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else {
            throw fail(key, "must be address:port, e.g. \"127.0.0.1:8080\"")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    mutating func config(_ root: TOMLTable) throws -> Config {
        var config = Config()
        for key in root.keys where !Config.knownSections.contains(key) {
            throw fail(key, "unknown section")
        }
        if let s = try table(root, "server", path: "server") {
            try onlyKeys(s, ["listen", "session_secret", "ssl_cert", "ssl_key", "trusted_proxies", "static_cache",
                             "connect_timeout", "info_cache_ms", "stop_timeout", "metrics_listen", "login_failures_per_user",
                             "login_failures_per_address", "login_window", "audit_log", "token_secret",
                             "revoked_tokens"], path: "server")
            if let listen = try string(s, "listen", path: "server") {
                (config.server.host, config.server.port) = try address(listen, key: "server.listen")
            }
            if let listen = try string(s, "metrics_listen", path: "server") {
                config.server.metricsListen = try address(listen, key: "server.metrics_listen")
            }
            config.server.sessionSecret = try string(s, "session_secret", path: "server")
            config.server.trustedProxies = try strings(s, "trusted_proxies", path: "server") ?? []
            for proxy in config.server.trustedProxies where AddressRange(proxy) == nil {
                throw fail("server.trusted_proxies", "'\(proxy)' is not an IP address or CIDR (e.g. \"10.0.0.0/8\")")
            }
            if let n = try int(s, "login_failures_per_user", path: "server", range: 1...10_000) {
                config.server.loginFailuresPerUser = n
            }
            if let n = try int(s, "login_failures_per_address", path: "server", range: 1...100_000) {
                config.server.loginFailuresPerAddress = n
            }
            if let t = try int(s, "login_window", path: "server", range: 1...86_400) {
                config.server.loginWindowSeconds = t
            }
            if let path = try string(s, "audit_log", path: "server") {
                guard path.hasPrefix("/") else { throw fail("server.audit_log", "must be an absolute path") }
                config.server.auditLog = path
            }
            try readTLS(s, into: &config.server)
            try readTokens(s, into: &config.server)
            if let t = try int(s, "connect_timeout", path: "server", range: 1...600) {
                config.server.connectTimeoutSeconds = Double(t)
            }
            if try int(s, "info_cache_ms", path: "server", range: 0...60_000) != nil {
                config.server.deprecations.append(
                    "\(file): server.info_cache_ms is deprecated and ignored: guests are served from a view "
                    + "that libvirt's events keep current; remove the key")
            }
            if let t = try int(s, "stop_timeout", path: "server", range: Validation.stopTimeoutSeconds) {
                config.server.stopTimeoutSeconds = Double(t)
            }
        }
        for (name, t) in try named(root, "hypervisor") {
            let path = "hypervisor.\(name)"
            try onlyKeys(t, ["url", "image_storage_pool", "root_storage_pool", "network", "vm_template",
                             "volume_template", "ignored_vms"], path: path)
            var h = HypervisorConfig(name: name, url: try string(t, "url", path: path, required: true)!)
            guard h.url.contains(":") else { throw fail("\(path).url", "must be a libvirt URI, e.g. qemu:///system") }
            h.imageStoragePool = try string(t, "image_storage_pool", path: path)
            h.rootStoragePool = try string(t, "root_storage_pool", path: path)
            h.network = try string(t, "network", path: path)
            h.vmTemplate = try string(t, "vm_template", path: path)
            h.volumeTemplate = try string(t, "volume_template", path: path)
            h.ignoredVMs = try strings(t, "ignored_vms", path: path) ?? []
            config.hypervisors[name] = h
        }
        for (name, t) in try named(root, "plan") {
            let path = "plan.\(name)"
            try onlyKeys(t, ["memory", "cpus", "disk_size"], path: path)
            config.plans[name] = PlanConfig(
                name: name,
                memoryMiB: try int(t, "memory", path: path, range: Validation.memoryMiB, required: true)!,
                cpus: try int(t, "cpus", path: path, range: Validation.cpus, required: true)!,
                diskSizeGiB: try int(t, "disk_size", path: path, range: Validation.diskGiB, required: true)!)
        }
        for (name, t) in try named(root, "ssh_key") {
            let path = "ssh_key.\(name)"
            try onlyKeys(t, ["public"], path: path)
            let key = try string(t, "public", path: path, required: true)!
            guard key.hasPrefix("ssh-") || key.hasPrefix("ecdsa-") || key.hasPrefix("sk-") else {
                throw fail("\(path).public", "must be an OpenSSH public key (ssh-ed25519 AAAA..., ssh-rsa AAAA...)")
            }
            config.sshKeys[name] = SSHKeyConfig(name: name, publicKey: key)
        }
        for (name, t) in try named(root, "user") {
            config.users[name] = try user(name, t)
        }
        if let s = try table(root, "simplestack", path: "simplestack") {
            try onlyKeys(s, ["hosts"], path: "simplestack")
            config.simplestack.hosts = try strings(s, "hosts", path: "simplestack") ?? ["localhost"]
        }
        for (name, t) in try named(root, "family") {
            let path = "family.\(name)"
            try onlyKeys(t, ["uri", "local_uri", "domain_type"], path: path)
            var f = FamilyConfig()
            f.uri = try string(t, "uri", path: path)
            f.localURI = try string(t, "local_uri", path: path)
            f.domainType = try string(t, "domain_type", path: path)
            config.families[name] = f
        }
        if let w = try table(root, "wirt", path: "wirt") {
            try onlyKeys(w, ["provider", "group", "rescan_seconds", "max_file_size", "max_files_per_pass",
                             "max_vms_per_user", "log_max_size", "log_keep", "history_keep", "max_memory",
                             "max_cpus"], path: "wirt")
            var wirt = WirtConfig()
            wirt.provider = try string(w, "provider", path: "wirt")
            if let provider = wirt.provider, config.hypervisors[provider] == nil {
                throw fail("wirt.provider", "names no [hypervisor.\(provider)]")
            }
            if let group = try string(w, "group", path: "wirt") {
                guard !group.isEmpty, group.utf8.count <= 32 else { throw fail("wirt.group", "must be a group name") }
                wirt.group = group
            }
            if let v = try int(w, "rescan_seconds", path: "wirt", range: 1...86400) { wirt.rescanSeconds = Double(v) }
            if let v = try int(w, "max_file_size", path: "wirt", range: 16...65536) { wirt.maxFileBytes = v }
            if let v = try int(w, "max_files_per_pass", path: "wirt", range: 1...10000) { wirt.maxFilesPerPass = v }
            if let v = try int(w, "max_vms_per_user", path: "wirt", range: 1...10000) { wirt.maxVMsPerUser = v }
            if let v = try int(w, "log_max_size", path: "wirt", range: 1024...1_073_741_824) { wirt.logMaxBytes = v }
            if let v = try int(w, "log_keep", path: "wirt", range: 0...100) { wirt.logKeep = v }
            if let v = try int(w, "history_keep", path: "wirt", range: 0...100_000) { wirt.historyKeep = v }
            if let v = try int(w, "max_memory", path: "wirt", range: 16...16_777_216) { wirt.maxMemoryMiB = v }
            if let v = try int(w, "max_cpus", path: "wirt", range: 1...1024) { wirt.maxCpus = v }
            config.wirt = wirt
        }
        try readContainerSections(root, into: &config)
        return config
    }
}
