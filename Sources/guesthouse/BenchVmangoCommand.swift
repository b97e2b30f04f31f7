import ArgumentParser
import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseLibvirt
import GuesthouseVmango
import Libvirt
import Logging
import GuesthouseBench

/// `guesthouse bench-vmango`: machine create -> domain running (boot excluded) on qemu:///system
/// for an image of `--image-gib` GiB, beside what copying that image (upstream's way) costs.
struct BenchVmangoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-vmango", abstract: "Time vmango machine creation on qemu:///system (needs root and libvirtd).")

    @Option(help: "Machines to create (each is deleted again).")
    var runs = 5

    @Option(help: "Image size in GiB (fully allocated).")
    var imageGib = 2

    @Option(help: "libvirt URI.")
    var uri = "qemu:///system"

    func run() async throws {
        Libvirt.initialize()
        let scratch = try ScratchProvider.make(uri: uri, prefix: "ghbench-" + UUID().uuidString.prefix(8).lowercased())
        defer { scratch.tearDown() }
        let image = "Bench-1_amd64_raw.img"
        let bytes = UInt64(imageGib) << 30
        try scratch.addImage(name: image, bytes: bytes, allocated: true)
        print("vmango create -> running, \(imageGib) GiB raw image (fully allocated), \(uri), \(runs) runs")

        var config = Config()
        config.hypervisors["BENCH"] = scratch.hypervisorConfig(name: "BENCH")
        var kvm = FamilyConfig()
        kvm.domainType = "qemu"
        config.families["kvm"] = kvm
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let pool = ConnectionPool.standalone()
        let providers = try LibvirtMachineProviders(config: config, pool: pool, executor: pool.executor, logger: logger)
        let plan = MachinePlan(name: "bench", memoryMiB: 128, cpus: 1, diskSizeGiB: imageGib + 1)
        var creates: [Double] = []
        var deletes: [Double] = []
        for i in 0..<runs {
            let request = MachineRequest(name: "\(scratch.prefix)-\(i)", plan: plan, image: image,
                                         sshKeys: [MachineSSHKey(name: "bench", publicKey: "ssh-ed25519 AAAA bench")],
                                         userdata: "#cloud-config\n", creator: "bench")
            let t0 = ContinuousClock.now
            let machine = try await providers.create(provider: "BENCH", request)
            creates.append(BenchCommand.milliseconds(ContinuousClock.now - t0))
            guard machine.state == "running" else { throw ValidationError("machine \(machine.name) is \(machine.state)") }
            let t1 = ContinuousClock.now
            try await providers.delete(provider: "BENCH", id: machine.id)
            deletes.append(BenchCommand.milliseconds(ContinuousClock.now - t1))
        }
        // Upstream's way: a full copy of the image per machine.
        let source = "/var/lib/guesthouse-tests/\(scratch.imagePool)/\(image)"
        let copy = "/var/lib/guesthouse-tests/\(scratch.rootPool)/copy.img"
        let t2 = ContinuousClock.now
        try FileManager.default.copyItem(atPath: source, toPath: copy)
        if let handle = FileHandle(forWritingAtPath: copy) { try handle.synchronize(); try handle.close() }
        let copied = BenchCommand.milliseconds(ContinuousClock.now - t2)
        try? FileManager.default.removeItem(atPath: copy)

        func summary(_ values: [Double]) -> String {
            let s = values.sorted()
            return String(format: "min %8.1f ms   median %8.1f ms   max %8.1f ms", s.first ?? 0,
                          BenchCommand.percentile(s, 0.5), s.last ?? 0)
        }
        print("create -> running (incl. config drive)  " + summary(creates))
        print("delete (domain, volumes, DHCP entry)     " + summary(deletes))
        print(String(format: "copying the image once (upstream)        %8.1f ms", copied))
        print(String(format: "create median / image copy:  %.2f", BenchCommand.percentile(creates.sorted(), 0.5) / copied))
    }
}
