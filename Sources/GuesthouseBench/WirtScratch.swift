#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GuesthouseSpool

/// A throw-away wirt setup for tests and the benchmark (needs root): a fresh group, users in it
/// (or not) with homes under a temporary directory, and a libvirt test-driver node file holding a
/// guest `<user>-box` per user. `remove()` deletes all of it.
public final class WirtScratch: @unchecked Sendable {
    public let group: String
    public let root: String
    public private(set) var users: [String] = []
    private var removed = false

    /// Creates the group `prefix<random>` and a temporary directory.
    public init(prefix: String = "wt") throws {
        let tag = String(UInt32.random(in: 0..<UInt32.max), radix: 36)
        group = "\(prefix)g\(tag)"
        root = "/tmp/wirt-scratch-\(group)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Self.run("/usr/sbin/groupadd", [group])
    }

    deinit { remove() }

    /// Adds a user `<group-prefix>u<n>` (or `name`) with a home under `root`, in the group unless
    /// `member` is false. Returns the user's name.
    @discardableResult
    public func addUser(_ name: String? = nil, member: Bool = true) throws -> String {
        let user = name ?? "\(group)u\(users.count)"
        var args = ["-m", "-d", "\(root)/home/\(user)", "-s", "/bin/sh"]
        if member { args += ["-G", group] }
        try FileManager.default.createDirectory(atPath: "\(root)/home", withIntermediateDirectories: true)
        try Self.run("/usr/sbin/useradd", args + [user])
        users.append(user)
        return user
    }

    /// The home directory of `user`.
    public func home(_ user: String) -> String { "\(root)/home/\(user)" }

    /// Writes a test-driver node file with the given domains (name, running) and returns its URI.
    public func writeNode(domains: [(name: String, running: Bool)]) throws -> String {
        var parts = ["<node>"]
        for (i, d) in domains.enumerated() {
            parts.append("""
              <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
                <name>\(d.name)</name>
                <uuid>\(String(format: "7a1e8f2a-0000-4000-8000-%012x", i + 1))</uuid>
                <memory unit='MiB'>512</memory>
                <vcpu>1</vcpu>
                <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
                <on_poweroff>destroy</on_poweroff>\(d.running ? "" : "\n    <test:runstate>5</test:runstate>")
              </domain>
            """)
        }
        parts.append("</node>")
        let path = "\(root)/node.xml"
        try parts.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return "test://\(path)"
    }

    /// Deletes the users, the group and the directory. Safe to call twice.
    public func remove() {
        guard !removed else { return }
        removed = true
        for user in users { try? Self.run("/usr/sbin/userdel", ["-f", user]) }
        try? Self.run("/usr/sbin/groupdel", [group])
        if root.hasPrefix("/tmp/wirt-scratch-") { try? FileManager.default.removeItem(atPath: root) }
    }

    /// Runs a program and waits; throws when it fails.
    public static func run(_ program: String, _ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw WirtRefusal("\(program) \(args.joined(separator: " ")) exited \(p.terminationStatus)")
        }
    }
}
