import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseLibvirt
import GuesthouseOverlay
import Libvirt

/// Containers as libvirt-LXC domains on this host: each `container<id>` has its own network
/// namespace (`<privnet/>`), eth0 on the VNI's bridge with a fixed address and a stable MAC, and a
/// root filesystem of its own (an overlayfs layer over the shared base). Every libvirt call and file
/// operation runs on the libvirt executor, never on Swift's cooperative pool.
public struct LibvirtContainerService: ContainerService {
    public let config: ContainersConfig
    /// This server's id in the overlay (the second byte of the containers' MACs); 0 without `[overlay]`.
    let serverID: Int
    /// eth0's MTU: the overlay's.
    let mtu: Int?
    /// The containers' libvirt host (`config.uri`), reached like every other.
    let host: LibvirtHypervisor
    let executor: LibvirtExecutor
    let base: BaseRootfs
    /// How long a graceful stop may take before the container is stopped by force.
    let stopTimeout: Duration

    public init(config: ContainersConfig, overlay: OverlayConfig?, pool: ConnectionPool, executor: LibvirtExecutor,
                stopTimeout: Duration = .seconds(10)) {
        self.config = config
        self.serverID = overlay?.serverID ?? 0
        self.mtu = overlay?.mtu
        self.host = LibvirtHypervisor(pool: pool, executor: executor, uri: config.uri, family: "lxc",
                                      domainType: "lxc", hostName: "localhost")
        self.executor = executor
        self.base = BaseRootfs(path: config.rootfs, busybox: config.busybox)
        self.stopTimeout = stopTimeout
    }

    public var vnis: [Int] { config.vnis }

    /// Builds the base root filesystem unless it is there (containers otherwise build it on first use).
    public func prepareBase(progress: @escaping @Sendable (String) -> Void = { _ in }) async throws {
        let base = self.base
        try await executor.run { try base.ensure(progress: progress) }
    }

    public func create(_ spec: ContainerSpec) async throws -> Container {
        guard config.vnis.contains(spec.vlan) else {
            throw GuesthouseError.invalid("vlan must be one of \(config.vnis.map(String.init).joined(separator: ", "))")
        }
        guard let ip = IPv4Interface(spec.ip), ip.isHostAddress else { throw GuesthouseError.invalid("ip is not a host address with a prefix") }
        let gateway = try config.gateway.map { template in
            let text = template.replacingOccurrences(of: "{vni}", with: String(spec.vlan))
            guard let address = IPv4Address(text) else {
                throw GuesthouseError.hypervisor("[containers] gateway gives \"\(text)\", not an IPv4 address")
            }
            return address
        }
        let definition = ContainerDefinition(
            id: spec.id, vlan: spec.vlan, ip: ip, bridge: config.bridgeName(vni: spec.vlan),
            mac: ContainerDefinition.mac(id: spec.id, serverID: serverID), gateway: gateway, mtu: mtu,
            memoryMiB: config.memoryMiB, rootfs: layer(spec.id).rootfs, creator: spec.creator)
        let layer = layer(spec.id)
        let base = self.base
        try await withConnection("create container") { conn in
            if (try? conn.domain(name: definition.name)) != nil {
                throw GuesthouseError.conflict("id \(spec.id) is in use by \(definition.name)")
            }
            guard FileManager.default.fileExists(atPath: "/sys/class/net/\(definition.bridge)/bridge") else {
                throw GuesthouseError.hypervisor("the bridge \(definition.bridge) of vlan \(spec.vlan) does not exist "
                                                 + "(is the overlay up? guesthouse overlay up)")
            }
            try base.ensure()
            guard try layer.claim() else {
                throw GuesthouseError.conflict("id \(spec.id) is in use: \(layer.directory) exists (a create in progress, "
                                               + "or a layer left behind: remove it)")
            }
            var domain: Domain?
            do {
                try layer.mount()
                domain = try conn.defineDomain(xml: definition.xml)
                // Re-read before the answer: the view may already hold it from its "defined" event, stopped.
                LibvirtHypervisor.touched(domain!)
                try domain!.start()
            } catch {
                if let domain {
                    if (try? domain.isActive()) == true { try? domain.destroy() }
                    try? domain.undefine()
                }
                try? layer.remove()
                throw error
            }
        }
        return try await container(id: spec.id)
    }

    /// The running containers, from the host's view (kept by libvirt's events; each write of this
    /// server re-read before it answered).
    public func runningIDs() async throws -> [Int] {
        if let view = try await host.readyView() {
            return view.domains().compactMap { domain in
                guard LibvirtHypervisor.guestState(domain.state) != .stopped else { return nil }
                return ContainerDefinition.id(fromName: domain.definition.name)
            }.sorted()
        }
        return try await withConnection("list containers", readOnly: true) { conn in
            try conn.allDomains().compactMap { domain in
                guard let id = ContainerDefinition.id(fromName: domain.name), (try? domain.isActive()) == true else { return nil }
                return id
            }.sorted()
        }
    }

    /// The container's definition and state from the host's view (one the view does not hold is
    /// looked up in libvirt, whose answer a 404 is); a running container's memory and CPU use, which
    /// change without events, are read from libvirt.
    public func container(id: Int) async throws -> Container {
        let config = self.config
        let vni: @Sendable (String) -> Int? = { bridge in config.vnis.first { config.bridgeName(vni: $0) == bridge } }
        let viewed = try await host.readyView()?.domain(id: ContainerDefinition.name(id))
        guard let viewed else {
            return try await withDomain(id, "container info", readOnly: true) { domain in
                let info = try domain.runtimeInfo()
                let definition = try DomainDefinition(xml: try domain.xml())
                return Self.container(id: id, definition, info.state, vni: vni, usage: info)
            }
        }
        var usage: DomainRuntimeInfo?
        if LibvirtHypervisor.guestState(viewed.state) != .stopped {
            usage = try await withDomain(id, "container usage", readOnly: true) { try $0.runtimeInfo() }
        }
        return Self.container(id: id, viewed.definition, usage?.state ?? viewed.state, vni: vni, usage: usage)
    }

    /// The container a definition and state describe; with `usage`, a running one's memory and CPU use.
    static func container(id: Int, _ definition: DomainDefinition, _ domainState: DomainState,
                          vni: (String) -> Int?, usage: DomainRuntimeInfo?) -> Container {
        let parsed = ContainerDefinition.parse(definition, bridgeToVNI: vni)
        let state = Container.State(LibvirtHypervisor.guestState(domainState))
        var container = Container(id: id, name: ContainerDefinition.name(id), state: state,
                                  memoryLimitBytes: definition.memoryKiB * 1024)
        container.vlan = parsed.vlan
        container.ip = parsed.ip
        container.gateway = parsed.gateway
        container.mac = parsed.mac
        container.bridge = parsed.bridge
        container.mtu = parsed.mtu
        container.creator = parsed.creator
        if let usage, state == .running || state == .paused {
            container.memoryBytes = usage.memoryKiB * 1024
            container.cpuSeconds = Double(usage.cpuTimeNanoseconds) / 1e9
        }
        return container
    }

    public func start(id: Int) async throws {
        let layer = layer(id)
        try await withDomain(id, "start container") { domain in
            if try domain.isActive() { throw GuesthouseError.conflict("container \(id) is already running") }
            try layer.mount()
            try domain.start()
        }
    }

    /// Signals the container's init (SIGTERM), waits up to `stopTimeout` for it to end (state read
    /// in short hops, async pauses between them: no executor thread is held), then stops it by force
    /// (creepy-meow's stop), and returns only once it is off.
    public func stop(id: Int) async throws {
        let deadline = ContinuousClock.now + stopTimeout
        try await withDomain(id, "stop container") { domain in
            guard try domain.isActive() else { throw GuesthouseError.conflict("container \(id) is not running") }
            try? domain.shutdownBySignal()
        }
        let off = try await Polling.until(deadline: deadline) {
            try await withDomain(id, "stop container") { domain in
                LibvirtHypervisor.guestState(try domain.state()) == .stopped
            }
        }
        if off { return }
        try await withDomain(id, "stop container") { domain in
            if try domain.isActive() { try domain.destroy() }
            if LibvirtHypervisor.guestState(try domain.state()) != .stopped {
                throw GuesthouseError.conflict("container \(id) is still running after the forced stop")
            }
        }
    }

    public func delete(id: Int) async throws {
        let layer = layer(id)
        try await withDomain(id, "delete container") { domain in
            if try domain.isActive() { try domain.destroy() }
            try domain.undefine()
            try layer.remove()
        }
    }

    public func consoleLog(id: Int) async throws -> String {
        let layer = layer(id)
        return try await withDomain(id, "container console") { _ in layer.consoleLog() }
    }

    // MARK: -

    func layer(_ id: Int) -> ContainerLayer {
        ContainerLayer(layers: config.layers, name: ContainerDefinition.name(id), base: config.rootfs)
    }

    /// Runs `body` on the libvirt executor with the container's domain; 404 when there is none.
    /// Unless `readOnly`, the host's view re-reads the domain before the call answers.
    func withDomain<T: Sendable>(_ id: Int, _ operation: String, readOnly: Bool = false,
                                 _ body: @escaping @Sendable (Domain) throws -> T) async throws -> T {
        try await withConnection(operation, readOnly: readOnly) { conn in
            let domain: Domain
            do {
                domain = try conn.domain(name: ContainerDefinition.name(id))
            } catch let error as LibvirtError {
                guard error.kind == .notFound else { throw error }
                throw GuesthouseError.notFound("container \(id) not found")
            }
            if !readOnly { LibvirtHypervisor.touched(domain) }
            return try body(domain)
        }
    }

    /// Runs `body` with a connection to the containers' URI on the one path every interface takes
    /// (`LibvirtHypervisor`: the pool's connection, the executor, deadlines, one error mapping).
    func withConnection<T: Sendable>(_ operation: String, readOnly: Bool = false,
                                     _ body: @escaping @Sendable (Connection) throws -> T) async throws -> T {
        try await host.withConnection(operation, readOnly: readOnly, body)
    }
}
