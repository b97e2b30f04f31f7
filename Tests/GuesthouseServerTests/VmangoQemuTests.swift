import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseVmango
import Hummingbird
import HummingbirdTesting
import Libvirt
import Testing
import GuesthouseTestSupport

/// vmango machines on real `qemu:///system` (domain type qemu, TCG): a tiny image built from Debian
/// packages (`scripts/build-test-image`: the cloud kernel and a busybox initramfs) boots, reads
/// its config drive and writes what it found to the serial console, then waits for the ACPI power
/// button. The network
/// is isolated (no `<forward>`): guests reach nothing but their own bridge. Everything made here is
/// removed, even on failure.
@Suite(.serialized) struct VmangoQemuTests {
    static let image = "Tiny-1_amd64_raw.img"

    /// The tiny image at `$GUESTHOUSE_TEST_IMAGE` (default /var/tmp/guesthouse-test-image/Tiny-1_amd64_raw.img),
    /// (re)built by the script unless its stamp says it is up to date for this version of the script.
    static func imagePath() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let output = ProcessInfo.processInfo.environment["GUESTHOUSE_TEST_IMAGE"] ?? "/var/tmp/guesthouse-test-image/\(image)"
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: output).deletingLastPathComponent().path,
                                                withIntermediateDirectories: true)
        let build = Process()
        build.executableURL = root.appendingPathComponent("scripts/build-test-image")
        build.arguments = [output]
        try build.run()
        build.waitUntilExit()
        guard build.terminationStatus == 0 else { throw GuesthouseError(.internalError, "scripts/build-test-image failed") }
        return output
    }

    /// A vm_template in vmango's own Go-template style, with the serial console logged to a file.
    static func template(serialLog: String, extraDevice: String = "") -> String {
        """
        <domain type='qemu'>
          <name>{{ .Machine.Name }}</name>
          <uuid>{{ .Machine.Uuid }}</uuid>
          <metadata>{{ .Metadata }}</metadata>
          <memory unit='b'>{{ .Plan.Memory }}</memory>
          <vcpu>{{ .Plan.Cpus }}</vcpu>
          <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
          <on_poweroff>destroy</on_poweroff>
          <on_reboot>destroy</on_reboot>
          <devices>
            <disk type='file' device='disk'>
              <driver name='qemu' type='{{ .RootVolume.Format }}'/>
              <source file='{{ .VolumePath }}'/>
              <target dev='vda' bus='virtio'/>
            </disk>
            {{#ConfigDrivePath}}<disk type='file' device='cdrom'>
              <driver name='qemu' type='raw'/><source file='{{ConfigDrivePath}}'/>
              <target dev='hdc' bus='ide'/><readonly/>
            </disk>{{/ConfigDrivePath}}
            <interface type='network'>
              <mac address='{{ .Machine.HWAddr }}'/><source network='{{ .Network }}'/><model type='virtio'/>
            </interface>
            <serial type='pty'><log file='\(serialLog)' append='off'/><target port='0'/></serial>
            \(extraDevice)
          </devices>
        </domain>
        """
    }

    /// Runs `body` with a server whose provider QEMU1 is a fresh scratch provider holding the image.
    static func withProvider(template: (String) -> String,
                             _ body: @escaping @Sendable (ScratchProvider, String, any TestClientProtocol) async throws -> Void)
        async throws {
        let image = try imagePath()
        let prefix = "ghvm-" + UUID().uuidString.prefix(8).lowercased()
        let scratch = try ScratchProvider.make(prefix: prefix)
        let serialLog = "/var/log/libvirt/qemu/\(prefix)-serial.log"
        let templateFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix).xml.in")
        defer {
            scratch.tearDown()
            try? FileManager.default.removeItem(atPath: serialLog)
            try? FileManager.default.removeItem(at: templateFile)
        }
        try scratch.addImage(name: Self.image, copying: image)
        try template(serialLog).write(to: templateFile, atomically: true, encoding: .utf8)
        var server = try TestServer.vmango()
        var provider = scratch.hypervisorConfig(name: "QEMU1")
        provider.vmTemplate = templateFile.path
        server.config.hypervisors = ["QEMU1": provider]
        server.config.plans["tiny"] = PlanConfig(name: "tiny", memoryMiB: 192, cpus: 1, diskSizeGiB: 1)
        try await server.run(.router, operationTimeout: 600) { client in
            try await body(scratch, serialLog, client)
        }
    }

    /// Polls the serial log until `marker` shows, or fails after `seconds`.
    static func waitForLog(_ path: String, containing marker: String, seconds: Double) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let data = FileManager.default.contents(atPath: path) {
                let text = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\r", with: "")
                if text.contains(marker) { return text }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        let text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "(no log)"
        Issue.record("the guest did not print \(marker) within \(seconds) s; serial log:\n\(text.suffix(3000))")
        throw GuesthouseError(.internalError, "guest timed out")
    }

    @Test func aRealGuestBootsWithItsKeysAndUserData() async throws {
        try await Self.withProvider(template: { Self.template(serialLog: $0) }) { scratch, serialLog, client in
            let images = try await client.call(.get, "/api/images/", headers: TestServer.vmangoAuth)
            let tiny = ((object(images.json)["Images"] as? [String: Any])?["QEMU1"] as? [[String: Any]] ?? []).first
            #expect(tiny?["Id"] as? String == Self.image)
            #expect(tiny?["Type"] as? Int == 0)
            // A real pool knows the file's mtime: the image's Date is RFC 3339.
            #expect((tiny?["Date"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) } != nil)

            let name = scratch.prefix + "-vm"
            let marker = "userdata-\(UUID().uuidString.prefix(8))"
            let userdata = "#cloud-config\n# \(marker)"
            let body = "Name=\(name)&Plan=tiny&Image=\(Self.image)&SSHKey=test&Provider=QEMU1&Userdata="
                + (userdata.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            let created = try await client.form("/api/machines/", body)
            #expect(created.status == .created, "\(created.text)")
            let location = try #require(created.headers[.location])

            let log = try await Self.waitForLog(serialLog, containing: "GUESTHOUSE-DONE", seconds: 240)
            let lines = log.split(separator: "\n").map(String.init)
            #expect(lines.contains("GUESTHOUSE-HOSTNAME: \(name)"))
            #expect(lines.contains("GUESTHOUSE-SSHKEY: \(TestServer.sshKeyTest)"))
            let begin = try #require(lines.firstIndex(of: "GUESTHOUSE-USERDATA-BEGIN"))
            let end = try #require(lines.firstIndex(of: "GUESTHOUSE-USERDATA-END"))
            #expect(lines[(begin + 1)..<end].joined(separator: "\n") == userdata)

            let detail = try await client.call(.get, location, headers: TestServer.vmangoAuth)
            let vm = object(object(detail.json)["Machine"])
            #expect((object(vm["Ip"])["Address"] as? String)?.hasPrefix(scratch.subnet + ".") == true)
            #expect(object(vm["RootDisk"])["Size"] as? Int == 1_073_741_824)
            let during = try scratch.leftovers()
            #expect(during.volumes == ["\(name)_config.iso", "\(name)_disk"])
            #expect(during.hosts == [name])

            let deleted = try await client.call(.delete, location, headers: TestServer.vmangoAuth)
            #expect(deleted.status == .noContent)
            let after = try scratch.leftovers()
            #expect(after.volumes.isEmpty)
            #expect(after.hosts.isEmpty)
            #expect((try? Connection(uri: "qemu:///system").domain(name: name)) == nil)
        }
    }

    @Test func aStartThatFailsLeavesNothing() async throws {
        // A second disk whose file does not exist: libvirt defines the domain, then refuses to start it.
        let missingDisk = "<disk type='file' device='disk'><source file='/nonexistent/guesthouse-missing.img'/><target dev='vdb' bus='virtio'/></disk>"
        try await Self.withProvider(template: { Self.template(serialLog: $0, extraDevice: missingDisk) }) { scratch, _, client in
            let name = scratch.prefix + "-fails"
            let r = try await client.form("/api/machines/", "Name=\(name)&Plan=tiny&Image=\(Self.image)&Provider=QEMU1")
            #expect(r.status.code >= 400, "\(r.text)")
            #expect(client.vmangoError(r.json).contains("guesthouse-missing.img"), "\(r.text)")
            let left = try scratch.leftovers()
            #expect(left.volumes.isEmpty)
            #expect(left.hosts.isEmpty)
            #expect((try? Connection(uri: "qemu:///system").domain(name: name)) == nil)
        }
    }
}
