import Foundation
import GuesthouseCore
import GuesthouseLibvirt
import Libvirt

/// What the spool needs from the hypervisor. Calls block; the spool makes them on its own thread.
public protocol WirtGuests: Sendable {
    /// Carries out `command` on the domain `domain`; returns a short result ("ok", "already running").
    /// - Throws: an error whose description is shown to the user.
    func perform(_ command: WirtCommand, domain: String) throws -> String
    /// The domain's state, autostart flag and XML (and, while it runs, the definition of its next
    /// boot), or nil when there is no such domain.
    func status(domain: String) throws -> WirtGuestStatus?
    /// Names of every domain (the spool keeps the status of `<user>-*` domains).
    func domainNames() throws -> [String]
}

/// A guest's state as written to `status.xml`.
public struct WirtGuestStatus: Sendable, Equatable {
    public var state: String
    public var autostart: Bool
    public var xml: String
    /// The persistent definition while the guest runs (what `config` changed for the next boot);
    /// nil when it is shut off (then `xml` is that definition) or transient.
    public var nextBootXML: String?
}

/// `WirtGuests` on one libvirt URI, reached like every other interface reaches libvirt: the shared
/// connection pool, the libvirt executor, deadlines and one error mapping (`LibvirtHypervisor`).
/// Its calls block the spool's own thread, never one of Swift's cooperative pool.
public struct LibvirtWirtGuests: WirtGuests {
    let host: LibvirtHypervisor

    /// The guests on `uri`, over `pool`.
    /// - Parameter operationTimeout: seconds one command may take before it fails (the spool goes on).
    public init(pool: ConnectionPool, executor: LibvirtExecutor, uri: String, operationTimeout: Double = 60) {
        let scheme = String(uri.prefix { $0 != ":" && $0 != "+" }).lowercased()
        host = LibvirtHypervisor(pool: pool, executor: executor, uri: uri, family: scheme, domainType: scheme,
                                 hostName: "localhost", operationTimeout: operationTimeout)
    }

    /// Runs `body` with the domain `name` (nil when there is none) on the libvirt executor.
    private func withDomain<T: Sendable>(_ name: String, _ operation: String, readOnly: Bool = false,
                                         _ body: @escaping @Sendable (Domain?) throws -> T) throws -> T {
        try host.withConnectionWaiting(operation, readOnly: readOnly) { conn in
            let domain: Domain?
            do {
                domain = try conn.domain(name: name)
            } catch let error as LibvirtError where error.kind == .notFound {
                domain = nil
            }
            return try body(domain)
        }
    }

    public func perform(_ command: WirtCommand, domain name: String) throws -> String {
        try withDomain(name, "wirt command") { d in
            guard let d else { throw WirtRefusal("no guest named \(name)") }
            return try Self.perform(command, on: d)
        }
    }

    private static func perform(_ command: WirtCommand, on d: Domain) throws -> String {
        switch command {
        case .start:
            if try d.isActive() { return "already running" }
            try d.start()
            return "started"
        case .stop:
            guard try d.isActive() else { return "already shut off" }
            try d.shutdown()
            return "shutdown requested"
        case .destroy:
            guard try d.isActive() else { return "already shut off" }
            try d.destroy()
            return "powered off"
        case .autostart(let on):
            try d.setAutostart(on)
            return on ? "autostart enabled" : "autostart disabled"
        case .config(let memory, let cpus):
            var done: [String] = []
            if let memory {
                try d.setConfiguredMemory(kib: UInt64(memory) * 1024)
                done.append("memory \(memory) MiB")
            }
            if let cpus {
                try d.setConfiguredVcpus(cpus)
                done.append("cpus \(cpus)")
            }
            return "configured " + done.joined(separator: ", ") + ((try? d.isActive()) == true ? " (from the next boot)" : "")
        }
    }

    public func status(domain name: String) throws -> WirtGuestStatus? {
        try withDomain(name, "wirt status", readOnly: true) { d in
            guard let d else { return nil }
            let state = try d.state()
            let active = try d.isActive()
            let nextBoot = active && (try? d.isPersistent()) == true ? try d.xml(inactive: true, secure: false) : nil
            return WirtGuestStatus(state: Self.stateName(state), autostart: (try? d.autostart()) ?? false,
                                   xml: try d.xml(inactive: false, secure: false), nextBootXML: nextBoot)
        }
    }

    public func domainNames() throws -> [String] {
        try host.withConnectionWaiting("wirt domain list", readOnly: true) { conn in try conn.allDomains().map(\.name) }
    }

    static func stateName(_ s: DomainState) -> String {
        switch s {
        case .noState: "nostate"
        case .running: "running"
        case .blocked: "blocked"
        case .paused: "paused"
        case .shutdown: "shutting-down"
        case .shutoff: "shutoff"
        case .crashed: "crashed"
        case .pmSuspended: "pmsuspended"
        }
    }
}
