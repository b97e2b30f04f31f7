import Foundation
import GuesthouseTestSupport
import HummingbirdBcrypt
import Testing

/// `guesthouse serve` (the executable built beside the tests) on a loopback port, with the user
/// admin/pw and a `kvm` family on qemu:///system, for tests that need the real server process
/// (its memory, its HTTP stack as `buildApplication` makes it).
struct ServedGuesthouse {
    let pid: pid_t
    let port: Int
    var base: String { "http://127.0.0.1:\(port)" }

    /// Runs `body` with a started server in `work` (its config and log go there); stops it after.
    static func with(in work: String, _ body: (ServedGuesthouse) async throws -> Void) async throws {
        let port = Int.random(in: 20_000...39_999)
        try """
            [server]
            listen = "127.0.0.1:\(port)"
            [user.admin]
            password = "\(Bcrypt.hash("pw", cost: 4))"
            [family.kvm]
            domain_type = "qemu"
            """.write(toFile: work + "/guesthouse.toml", atomically: true, encoding: .utf8)
        let pid = try Daemon.spawn(CommandResult.guesthouse, ["serve", "--config", work + "/guesthouse.toml"],
                                   log: work + "/server.log")
        defer { Daemon.stop(pid) }
        let server = ServedGuesthouse(pid: pid, port: port)
        let up = try await eventually { (try? CommandResult.run("curl", ["-sf", server.base + "/healthz"]))?.status == 0 }
        try #require(up, "the server never answered")
        try await body(server)
    }
}
