import Foundation
import GuesthouseCore
import Hummingbird
import HummingbirdTesting
import Libvirt
import NIOCore
import Testing

/// A graceful `stop` on real `qemu:///system` (domain type qemu, TCG), sent exactly as locaweb's Ruby
/// Simplestack client sends it: it answers once the guest is off, or 409 when the guest ignores the
/// ACPI power button, and never "ok" while the guest runs. Guests are named with a fresh prefix and
/// removed afterwards, even on failure.
@Suite(.serialized) struct QemuStopTests {
    /// The Ruby client's headers (`SimpleStack::Hypervisor#headers`: version, its placeholder token,
    /// base64 of user:password, JSON) and its body, `JSON.dump(:state => state)`.
    static var rubyClientHeaders: HTTPFields {
        [.init("x-simplestack-version")!: "1.0", .init("x-simplestack-token")!: "TODO",
         .init("x-simplestack-hypervisor-token")!: TestServer.token, .contentType: "application/json"]
    }

    static func rubyPower(_ client: any TestClientProtocol, _ guest: String, _ state: String, extra: String = "")
        async throws -> (status: HTTPResponse.Status, json: Any?, text: String) {
        let r = try await client.call(.put, guest + "/power", json: #"{"state":"\#(state)"\#(extra)}"#,
                                      headers: rubyClientHeaders)
        return (r.status, r.json, r.text)
    }

    /// Defines and starts `name`; removes it (and `files`) whatever happens in `body`.
    static func withGuest(_ name: String, xml: String, files: [String] = [],
                          _ body: @escaping @Sendable (Connection) async throws -> Void) async throws {
        let conn = try Connection(uri: "qemu:///system")
        defer {
            if let domain = try? conn.domain(name: name) {
                if (try? domain.isActive()) == true { try? domain.destroy() }
                try? domain.undefine()
            }
            for file in files + ["/var/log/libvirt/qemu/\(name).log"] { try? FileManager.default.removeItem(atPath: file) }
        }
        let domain = try conn.defineDomain(xml: xml)
        try domain.start()
        try await body(conn)
    }

    static func domainXML(name: String, disk: String = "", serialLog: String? = nil) -> String {
        let serial = serialLog.map { "<serial type='pty'><log file='\($0)' append='off'/><target port='0'/></serial>" } ?? ""
        return """
        <domain type='qemu'>
          <name>\(name)</name>
          <memory unit='MiB'>256</memory>
          <vcpu>1</vcpu>
          <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
          <features><acpi/></features>
          <on_poweroff>destroy</on_poweroff>
          <devices>\(disk)\(serial)</devices>
        </domain>
        """
    }

    @Test func aGuestThatIgnoresTheButtonIsAConflictAfterTheTimeoutAndStillRuns() async throws {
        let name = "ghstop-" + UUID().uuidString.prefix(8).lowercased() + "-noos"
        // No disk: SeaBIOS finds nothing to boot and nothing answers the ACPI power button.
        try await Self.withGuest(name, xml: Self.domainXML(name: name)) { conn in
            try await QemuSystemTests.server().run(.router, operationTimeout: 600) { client in
                let guest = "/kvm/localhost/guests/\(name)"
                let stop = Task { () -> (status: HTTPResponse.Status, error: String, message: String, text: String, seconds: Double) in
                    let start = ContinuousClock.now
                    let r = try await Self.rubyPower(client, guest, "stop", extra: #","timeout":2"#)
                    let elapsed = ContinuousClock.now - start
                    return (r.status, object(r.json)["error"] as? String ?? "", object(r.json)["message"] as? String ?? "",
                            r.text, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                }
                // While the stop waits, the guest is read as usual: the wait holds no executor thread.
                let read = try await client.call(.get, guest)
                #expect(read.status == .ok)
                let r = try await stop.value
                #expect(r.status == .conflict, "\(r.text)")
                #expect(r.error == "OperationNotAllowed")
                #expect(r.message.contains("within 2 s") && r.message.contains("force_stop"), "\(r.message)")
                #expect(r.seconds >= 2 && r.seconds < 30, "answered after \(r.seconds) s")
                #expect(try conn.domain(name: name).state() == .running)
                #expect(object(try await client.call(.get, guest).json)["state"] as? String == "STARTED")
                // force_stop is what the answer points to, and it works.
                #expect(try await Self.rubyPower(client, guest, "force_stop").status == .ok)
                #expect(try conn.domain(name: name).state() == .shutoff)
            }
        }
    }

    @Test func theTinyImagePowersOffOnStopAndTheNextStartWorks() async throws {
        let image = try VmangoQemuTests.imagePath()
        let name = "ghstop-" + UUID().uuidString.prefix(8).lowercased() + "-tiny"
        let directory = "/var/lib/guesthouse-tests/\(name)"
        let disk = "\(directory)/disk.img"
        let serialLog = "/var/log/libvirt/qemu/\(name)-serial.log"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: image, toPath: disk)
        let diskXML = "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='\(disk)'/>"
            + "<target dev='vda' bus='virtio'/></disk>"
        try await Self.withGuest(name, xml: Self.domainXML(name: name, disk: diskXML, serialLog: serialLog),
                                 files: [directory, serialLog]) { conn in
            // Up and waiting: the report is printed, acpid listens since before it.
            _ = try await VmangoQemuTests.waitForLog(serialLog, containing: "GUESTHOUSE-DONE", seconds: 240)
            try await QemuSystemTests.server().run(.router, operationTimeout: 600) { client in
                let guest = "/kvm/localhost/guests/\(name)"
                #expect(object(try await client.call(.get, guest).json)["state"] as? String == "STARTED")
                let stop = try await Self.rubyPower(client, guest, "stop", extra: #","timeout":120"#)
                #expect(stop.status == .ok, "\(stop.text)")
                #expect(object(stop.json)["action"] as? String == "stop" && object(stop.json)["message"] as? String == "ok")
                // Off when the answer came, read back from libvirt, and through the power button.
                #expect(try conn.domain(name: name).state() == .shutoff)
                #expect(object(try await client.call(.get, guest).json)["state"] as? String == "STOPPED")
                let log = String(decoding: FileManager.default.contents(atPath: serialLog) ?? Data(), as: UTF8.self)
                #expect(log.contains("GUESTHOUSE-ACPI-POWER-BUTTON"), "\(log.suffix(2000))")
                // The client's next step: start again.
                #expect(try await Self.rubyPower(client, guest, "start").status == .ok)
                #expect(try conn.domain(name: name).state() == .running)
                #expect(try await Self.rubyPower(client, guest, "force_stop").status == .ok)
            }
        }
    }
}
