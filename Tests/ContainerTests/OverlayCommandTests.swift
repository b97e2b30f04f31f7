import Foundation
import GuesthouseConfig
import GuesthouseOverlay
import HummingbirdBcrypt
import Testing

extension OverlayLabTests {
    /// The `guesthouse` executable beside the test bundle.
    static var executable: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("guesthouse").path
    }

    static func configFile(port: Int, work: String) throws -> String {
        let path = "\(work)/guesthouse.toml"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        try """
        [server]
        listen = "127.0.0.1:\(port)"
        [user.admin]
        password = "\(Bcrypt.hash("pw", cost: 4))"
        [containers]
        vnis = [201, 202]
        bridge = "ghtbr{vni}"
        rootfs = "\(work)/base"
        layers = "\(work)/layers"
        [overlay]
        server_id = 1
        underlay = "\(Lab.hostUnderlay)"
        peers = ["\(Lab.nsUnderlayAddress)"]
        device = "ghtvx{vni}"
        address = "198.18.{vni}.{server_id}/24"
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theOverlayCommandAndServeSetItUp() throws {
        let lab = try Lab()
        let work = "/var/tmp/gh-ct-serve-\(UUID().uuidString.prefix(8))"
        defer {
            lab.close()
            try? FileManager.default.removeItem(atPath: work)
        }
        let port = 18_000 + Int.random(in: 900...999)
        let config = try Self.configFile(port: port, work: work)
        let manager = OverlayManager(config: try #require(try Config.load(path: config).overlay))

        let up = try host.run(Self.executable, ["overlay", "up", "--config", config])
        #expect(up.contains("vni 201: ghtvx201 up -> ghtbr201 up mtu 1450 addr 198.18.201.1/24"), "\(up)")
        #expect(problems(try manager.status()) == [])
        #expect(succeeds(Self.executable, ["overlay", "status", "--config", config]))
        let json = try host.run(Self.executable, ["overlay", "status", "--json", "--config", config])
        #expect(json.contains("\"bridge\" : \"ghtbr202\""))
        let down = try host.run(Self.executable, ["overlay", "down", "--config", config])
        #expect(down.contains("removed ghtbr201 ghtvx201 ghtbr202 ghtvx202"), "\(down)")
        #expect(!succeeds(Self.executable, ["overlay", "status", "--config", config]))  // differs from the plan

        // A (re)started server re-applies the overlay before it serves.
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: Self.executable)
        serve.arguments = ["serve", "--config", config]
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        defer {
            serve.terminate()
            serve.waitUntilExit()
        }
        #expect(eventually(within: 30) { succeeds("curl", ["-sf", "http://127.0.0.1:\(port)/healthz"]) })
        #expect(problems(try manager.status()) == [])
        let list = try host.run("curl", ["-s", "-u", "admin:pw", "http://127.0.0.1:\(port)/api/container/list"])
        #expect(list.contains("\"containers_id\""), "\(list)")
        let denied = try host.run("curl", ["-s", "http://127.0.0.1:\(port)/api/container/list"])
        #expect(denied.contains("\"result\":false"), "\(denied)")
    }
}
