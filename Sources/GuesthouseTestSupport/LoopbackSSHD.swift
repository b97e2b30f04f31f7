#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GuesthouseBench

/// An sshd for tests (needs root) on a free loopback port with a host key, a client key and a config
/// of its own; logging in as root with the key reaches the system libvirtd, as `qemu+ssh://` does on
/// a real remote host. The client side is an `ssh` wrapper (libvirt's `command=` URI parameter) that
/// reads no user config and trusts exactly this host key (a known_hosts file of its own, strict
/// checking), so root's ~/.ssh is never read or written. `stop()` ends it, the sessions it started
/// included, and removes its directory.
public final class LoopbackSSHD: @unchecked Sendable {
    public let port: UInt16
    public let directory: String
    private var pid: pid_t = 0

    /// Starts sshd and waits until it accepts connections.
    /// - Throws: `DaemonError` when a tool is missing or sshd does not come up within 20 s.
    public init() throws {
        directory = "/tmp/gh-sshd-\(UUID().uuidString.prefix(8).lowercased())"
        port = try Daemon.freePort()
        try Daemon.starting(start, orCleanUp: stop)
    }

    private func start() throws {
        for tool in ["/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/ssh-keygen"] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw DaemonError("\(tool) is missing (scripts/setup installs openssh-server)")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o700)
        for key in ["hostkey", "userkey"] {
            try Daemon.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "guesthouse-test", "-f", "\(directory)/\(key)"])
        }
        try FileManager.default.copyItem(atPath: "\(directory)/userkey.pub", toPath: "\(directory)/authorized_keys")
        let hostKey = try String(contentsOfFile: "\(directory)/hostkey.pub", encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        try "[127.0.0.1]:\(port) \(hostKey)\n".write(toFile: "\(directory)/known_hosts", atomically: true, encoding: .utf8)
        try """
            ListenAddress 127.0.0.1
            Port \(port)
            HostKey \(directory)/hostkey
            PidFile \(directory)/sshd.pid
            AuthorizedKeysFile \(directory)/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            X11Forwarding no
            AllowTcpForwarding no

            """.write(toFile: "\(directory)/sshd_config", atomically: true, encoding: .utf8)
        try """
            #!/bin/sh
            exec /usr/bin/ssh -F none -o UserKnownHostsFile='\(directory)/known_hosts' -o StrictHostKeyChecking=yes \\
              -o BatchMode=yes -o ConnectTimeout=5 "$@"

            """.write(toFile: sshCommand, atomically: true, encoding: .utf8)
        chmod(sshCommand, 0o700)
        // Privilege separation needs this directory (Debian's service unit makes it).
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        pid = try Daemon.spawn("/usr/sbin/sshd", ["-D", "-f", "\(directory)/sshd_config", "-E", "\(directory)/sshd.log"])
        guard Daemon.waitForListener(port: port) else {
            let log = (try? String(contentsOfFile: "\(directory)/sshd.log", encoding: .utf8)) ?? ""
            throw DaemonError("the test sshd did not listen on 127.0.0.1:\(port) within 20 s: \(log)")
        }
    }

    /// The `ssh` wrapper libvirt runs (`command=`).
    public var sshCommand: String { "\(directory)/ssh" }

    /// The client's private key (`keyfile=`).
    public var keyFile: String { "\(directory)/userkey" }

    /// A kvm family URI template for this sshd: `qemu+ssh://root@{host}:PORT/system?keyfile=...&command=...`.
    public var qemuTemplate: String {
        "qemu+ssh://root@{host}:\(port)/system?keyfile=\(keyFile)&command=\(sshCommand)"
    }

    /// Ends sshd and the sessions it started, and removes its directory. Safe to call twice.
    public func stop() {
        if pid > 0 {
            // Sessions first, while sshd is there to reap them (nothing is left as a zombie of init).
            let sessions = Daemon.children(of: pid)
            for session in sessions { kill(session, SIGTERM) }
            let deadline = ContinuousClock.now + .seconds(2)
            while sessions.contains(where: { FileManager.default.fileExists(atPath: "/proc/\($0)") }),
                  ContinuousClock.now < deadline {
                usleep(10_000)
            }
            Daemon.stop(pid)
            pid = 0
        }
        if directory.hasPrefix("/tmp/gh-sshd-") { try? FileManager.default.removeItem(atPath: directory) }
    }

    deinit { stop() }
}
