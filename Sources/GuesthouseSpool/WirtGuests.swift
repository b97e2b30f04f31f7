import Foundation
import GuesthouseCore
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

/// `WirtGuests` on one libvirt URI, keeping one connection and reopening it when it dies.
public final class LibvirtWirtGuests: WirtGuests, @unchecked Sendable {
    private let uri: String
    private let lock = NSLock()
    private var connection: Connection?

    /// Connects lazily to `uri`.
    public init(uri: String) { self.uri = uri }

    /// Uses an open connection (tests share it to see the same test-driver state).
    public init(connection: Connection) {
        uri = connection.uri
        self.connection = connection
    }

    private func conn() throws -> Connection {
        try lock.withLock {
            if let c = connection, c.isAlive { return c }
            let c = try Connection(uri: uri)
            connection = c
            return c
        }
    }

    private func domain(_ name: String) throws -> Domain? {
        do {
            return try conn().domain(name: name)
        } catch let error as LibvirtError where error.kind == .notFound {
            return nil
        }
    }

    public func perform(_ command: WirtCommand, domain name: String) throws -> String {
        guard let d = try domain(name) else { throw WirtRefusal("no guest named \(name)") }
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
        guard let d = try domain(name) else { return nil }
        let state = try d.state()
        let active = try d.isActive()
        let nextBoot = active && (try? d.isPersistent()) == true ? try d.xml(inactive: true, secure: false) : nil
        return WirtGuestStatus(state: Self.stateName(state), autostart: (try? d.autostart()) ?? false,
                               xml: try d.xml(inactive: false, secure: false), nextBootXML: nextBoot)
    }

    public func domainNames() throws -> [String] {
        try conn().allDomains().map(\.name)
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
