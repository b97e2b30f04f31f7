#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GuesthouseBench

/// A second libvirtd for tests (needs root): TCP on a free loopback port with SASL (DIGEST-MD5, which
/// encrypts the session as libvirt requires without TLS) against a sasldb holding one user.
///
/// It cannot disturb the system libvirtd: it runs in a mount namespace of its own (`unshare
/// --mount`) with empty tmpfs over /run/libvirt, /var/lib/libvirt and /var/cache/libvirt and its SASL
/// config bound over /etc/sasl2, its sockets and pid file in its own directory, and it loads no
/// driver module (`LIBVIRT_DRIVER_DIR` is an empty directory): it serves only libvirt's built-in test
/// driver, e.g. `test+tcp://127.0.0.1:PORT/default`. `stop()` kills it and removes its directory.
public final class SASLLibvirtd: @unchecked Sendable {
    public let port: UInt16
    public let user: String
    public let password: String
    public let directory: String
    private var pid: pid_t = 0

    /// Starts the daemon and waits until it accepts connections.
    /// - Throws: `DaemonError` when a tool is missing or the daemon does not come up within 20 s.
    public init() throws {
        let tag = UUID().uuidString.prefix(8).lowercased()
        directory = "/tmp/gh-sasl-\(tag)"
        user = "gh\(tag)"
        password = "pw-" + UUID().uuidString
        port = try Daemon.freePort()
        try Daemon.starting(start, orCleanUp: stop)
    }

    private func start() throws {
        for tool in ["/usr/sbin/saslpasswd2", "/usr/sbin/libvirtd", "/usr/bin/unshare"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            throw DaemonError("\(tool) is missing (scripts/setup installs sasl2-bin and libvirt)")
        }
        let fm = FileManager.default
        for sub in ["run", "sasl", "drivers"] {
            try fm.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true)
        }
        chmod(directory, 0o700)
        try """
            mech_list: digest-md5
            sasldb_path: \(directory)/sasl/passwd.db

            """.write(toFile: "\(directory)/sasl/libvirt.conf", atomically: true, encoding: .utf8)
        try Daemon.run("/usr/sbin/saslpasswd2", ["-p", "-c", "-a", "libvirt", "-f", "\(directory)/sasl/passwd.db", user],
                       input: password)
        try """
            listen_tls = 0
            listen_tcp = 1
            listen_addr = "127.0.0.1"
            tcp_port = "\(port)"
            auth_tcp = "sasl"
            unix_sock_dir = "\(directory)/run"
            unix_sock_group = "root"
            unix_sock_rw_perms = "0700"
            unix_sock_ro_perms = "0700"
            auth_unix_rw = "none"
            auth_unix_ro = "none"

            """.write(toFile: "\(directory)/libvirtd.conf", atomically: true, encoding: .utf8)
        // Runs inside the new mount namespace: what libvirtd writes lands on tmpfs that vanishes with it.
        try """
            set -e
            for d in /run/libvirt /var/lib/libvirt /var/cache/libvirt; do
              if [ -d "$d" ]; then mount -t tmpfs -o mode=0755 tmpfs "$d"; fi
            done
            mkdir -p /etc/sasl2 2>/dev/null || true
            mount --bind '\(directory)/sasl' /etc/sasl2
            exec /usr/sbin/libvirtd -f '\(directory)/libvirtd.conf' --listen --pid-file '\(directory)/run/libvirtd.pid'

            """.write(toFile: "\(directory)/start.sh", atomically: true, encoding: .utf8)
        // `unshare` and `sh` exec in turn, so the pid is libvirtd's.
        pid = try Daemon.spawn("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "\(directory)/start.sh"],
                               log: "\(directory)/libvirtd.log", environment: ["LIBVIRT_DRIVER_DIR": "\(directory)/drivers"])
        guard Daemon.waitForListener(port: port) else {
            let log = (try? String(contentsOfFile: "\(directory)/libvirtd.log", encoding: .utf8)) ?? ""
            throw DaemonError("the test libvirtd did not listen on 127.0.0.1:\(port) within 20 s: \(log)")
        }
    }

    /// `test+tcp://127.0.0.1:PORT/default`, or `template` with `{port}` replaced.
    public var uri: String { "test+tcp://127.0.0.1:\(port)/default" }

    /// Kills the daemon (a host that goes away) and waits until it is gone. Safe to call twice.
    public func kill() {
        Daemon.stop(pid, grace: .seconds(5))
        pid = 0
    }

    /// Starts the daemon again after `kill()`, on the same port with the same user: a host that comes
    /// back. Its test driver starts from its fixture again, so whatever was defined before is gone.
    /// - Throws: `DaemonError` when it does not listen again within 20 s.
    public func restart() throws {
        kill()
        try start()
    }

    /// Kills the daemon and removes its directory. Safe to call twice.
    public func stop() {
        kill()
        if directory.hasPrefix("/tmp/gh-sasl-") { try? FileManager.default.removeItem(atPath: directory) }
    }

    deinit { stop() }
}
