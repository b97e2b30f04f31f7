import ArgumentParser
import Foundation
import GuesthouseConfig
import GuesthouseContainers
import GuesthouseCore
import GuesthouseLibvirt
import GuesthouseOverlay
import Libvirt
import GuesthouseBench

/// `guesthouse bench-containers`: container create -> running on real libvirt-LXC (goal < 2 s).
/// Works in a scratch directory with a bridge of its own (no address, no uplink), and removes
/// every container, layer and the bridge afterwards.
struct BenchContainersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-containers", abstract: "Measure container create -> running on lxc:///system (as root).")

    @Option(help: "Containers to create, one after another.")
    var count = 10

    @Option(help: "libvirt URI.")
    var uri = "lxc:///system"

    func run() async throws {
        let work = "/var/tmp/guesthouse-bench-containers-\(getpid())"
        let bridge = "ghbench\(getpid() % 100_000)"
        var config = ContainersConfig()
        config.uri = uri
        config.vnis = [1]
        config.bridge = "\(bridge)"
        config.rootfs = "\(work)/base"
        config.layers = "\(work)/layers"
        let command = HostCommand()
        if FileManager.default.fileExists(atPath: "/sys/class/net/\(bridge)") {
            throw ValidationError("\(bridge) already exists; not touching it")
        }
        try command.run("ip", ["link", "add", bridge, "type", "bridge"])
        defer {
            _ = try? command.run("ip", ["link", "del", bridge])
            try? FileManager.default.removeItem(atPath: work)
        }
        try command.run("ip", ["link", "set", bridge, "up"])
        Libvirt.initialize()
        let pool = ConnectionPool.standalone()
        let service = LibvirtContainerService(config: config, overlay: nil, pool: pool,
                                              executor: pool.executor, stopTimeout: .seconds(2))
        let baseStart = ContinuousClock.now
        try await service.prepareBase()
        let baseTime = ContinuousClock.now - baseStart
        print("base root filesystem built in \(Self.ms(baseTime)) ms")

        var running: [Duration] = []
        var initUp: [Duration] = []
        var created: [Int] = []
        var failure: (any Error)?
        for i in 0..<count {
            let id = 990_000 + i
            let start = ContinuousClock.now
            do {
                let container = try await service.create(ContainerSpec(id: id, ip: "198.18.200.\(10 + i % 200)/24", vlan: 1))
                created.append(id)
                guard container.state == .running else { throw ValidationError("container\(id) is \(container.state)") }
                running.append(ContinuousClock.now - start)
                let deadline = ContinuousClock.now + .seconds(10)
                while !(try await service.consoleLog(id: id)).contains("started") {
                    guard ContinuousClock.now < deadline else { throw ValidationError("container\(id): init never started") }
                    try await Task.sleep(for: .milliseconds(5))
                }
                initUp.append(ContinuousClock.now - start)
            } catch {
                failure = error
                break
            }
        }
        for id in created { try? await service.delete(id: id) }
        if let failure { throw failure }
        print(Self.row("create -> running (API returns)", running))
        print(Self.row("create -> init up (console)", initUp))
        let p99 = initUp.sorted().last ?? .zero
        print("goal < 2000 ms: \(p99 < .seconds(2) ? "met" : "missed") (slowest \(Self.ms(p99)) ms)")
    }

    static func ms(_ d: Duration) -> String {
        String(format: "%.1f", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
    }

    static func row(_ name: String, _ samples: [Duration]) -> String {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return "\(name): no samples" }
        let name = name.padding(toLength: 34, withPad: " ", startingAt: 0)
        return "\(name) n \(sorted.count)   p50 \(ms(sorted[sorted.count / 2])) ms   max \(ms(sorted.last!)) ms"
    }
}
