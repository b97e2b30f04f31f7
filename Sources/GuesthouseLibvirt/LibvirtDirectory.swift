import GuesthouseConfig
import GuesthouseCore
import Libvirt

/// Maps Simplestack paths (`/{family}/{host}`) onto libvirt hypervisors, sharing one connection pool.
public struct LibvirtDirectory: HypervisorDirectory {
    public let pool: ConnectionPool
    public let executor: LibvirtExecutor
    let families: [String: Family]
    let hosts: HostPolicy
    let operationTimeout: Double
    let stopTimeout: Double
    /// Targets already resolved, by family and host as the request spelled them (the families and
    /// the host policy never change while the server runs); at most `remembered` of them.
    private let resolved = Locked<[String: HypervisorTarget]>([:])
    private static let remembered = 1024

    public init(config: Config, pool: ConnectionPool, executor: LibvirtExecutor, operationTimeout: Double = 60) {
        self.pool = pool
        self.executor = executor
        self.families = Family.table(config: config)
        self.hosts = HostPolicy(patterns: config.simplestack.hosts)
        self.operationTimeout = operationTimeout
        self.stopTimeout = config.server.stopTimeoutSeconds
    }

    public var familyNames: [String] { families.keys.sorted() }

    public func target(family name: String, host: String) throws -> HypervisorTarget {
        let key = name + "\u{0}" + host
        if let known = resolved.withLock({ $0[key] }) { return known }
        let target = try resolve(family: name, host: host)
        resolved.withLock { table in
            if table.count >= Self.remembered { table.removeAll(keepingCapacity: true) }
            table[key] = target
        }
        return target
    }

    private func resolve(family name: String, host: String) throws -> HypervisorTarget {
        guard let family = families[name.lowercased()] else {
            let known = Set(families.keys).sorted().joined(separator: ", ")
            throw GuesthouseError.notFound("unknown hypervisor family '\(name)' (known: \(known))")
        }
        try hosts.check(host)
        let uri: String
        if host.lowercased() == "localhost", let local = family.localURI {
            uri = local
        } else if let template = family.remoteTemplate {
            uri = template.replacingOccurrences(of: "{host}", with: host.lowercased())
        } else {
            throw GuesthouseError.notFound("the \(family.name) family serves only localhost")
        }
        return HypervisorTarget(family: family.name, host: host, uri: uri,
                                hypervisorChecksCredentials: Family.hypervisorChecksCredentials(uri: uri))
    }

    public func hypervisor(for target: HypervisorTarget, credentials: Credentials?) async throws -> any Hypervisor {
        guard let family = families[target.family] else { throw GuesthouseError.notFound("unknown family") }
        let passed = target.hypervisorChecksCredentials
            ? credentials.map { LibvirtCredentials(username: $0.username, password: $0.password) } : nil
        return LibvirtHypervisor(pool: pool, executor: executor, uri: target.uri, credentials: passed,
                                 family: family.name, domainType: family.domainType, hostName: target.host,
                                 operationTimeout: operationTimeout, stopTimeout: stopTimeout)
    }
}
