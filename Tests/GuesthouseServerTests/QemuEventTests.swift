import Foundation
import GuesthouseConfig
import Libvirt
import Testing

/// Changes made outside the server (`virsh` on `qemu:///system`) reach the guest list and the event
/// stream within a second. The guest has no OS and no disk (domain type qemu: it sits in its
/// firmware), a unique name, and is removed even on failure.
@Suite(.serialized) struct QemuEventTests {
    static let auth = [("x-simplestack-hypervisor-token", TestServer.token)]

    static func virsh(_ arguments: String...) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/virsh")
        process.arguments = ["-q", "-c", "qemu:///system"] + arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GuesthouseTestFailure(description: "virsh \(arguments.joined(separator: " ")): "
                                        + String(decoding: message, as: UTF8.self))
        }
    }

    struct GuesthouseTestFailure: Error, CustomStringConvertible { var description: String }

    @Test func virshDefineStartDestroyUndefineShowInTheListAndOnTheStream() async throws {
        let name = "ghev-\(UUID().uuidString.prefix(8).lowercased())"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(name).xml")
        try """
        <domain type='qemu'>
          <name>\(name)</name>
          <memory unit='MiB'>32</memory>
          <vcpu>1</vcpu>
          <os><type arch='x86_64'>hvm</type></os>
        </domain>
        """.write(to: file, atomically: true, encoding: .utf8)
        defer {
            QemuSystemTests.cleanUp(guest: name)
            try? FileManager.default.removeItem(at: file)
        }
        let server = try TestServer { config in
            var kvm = FamilyConfig()
            kvm.domainType = "qemu"
            config.families["kvm"] = kvm
        }
        try await server.run { client in
            let port = try #require(client.port)
            func listed() async throws -> [String: String] {
                let guests = list(try await client.call(.get, "/kvm/localhost/guests").json)
                var states: [String: String] = [:]
                for guest in guests { states[guest["name"] as? String ?? ""] = guest["state"] as? String }
                return states
            }
            #expect(try await listed()[name] == nil)
            let stream = try await EventStreamClient.open(port: port, path: "/kvm/localhost/events?type=guest",
                                                          headers: Self.auth)
            defer { stream.close() }
            #expect(stream.status == 200)

            try Self.virsh("define", file.path)
            let defined = try await stream.event(within: .seconds(1), "\(name) defined") {
                $0["name"] == name && $0["action"] == "defined"
            }
            #expect(defined["state"] == "STOPPED")
            #expect(UUID(uuidString: defined["id"] ?? "") != nil)
            #expect(try await listed()[name] == "STOPPED")

            try Self.virsh("start", name)
            _ = try await stream.event(within: .seconds(1), "\(name) started") { $0["name"] == name && $0["action"] == "started" }
            #expect(try await listed()[name] == "STARTED")
            let info = object(try await client.call(.get, "/kvm/localhost/guests/\(defined["id"] ?? "")").json)
            #expect(info["state"] as? String == "STARTED")

            try Self.virsh("destroy", name)
            _ = try await stream.event(within: .seconds(1), "\(name) stopped") { $0["name"] == name && $0["action"] == "stopped" }
            #expect(try await listed()[name] == "STOPPED")

            try Self.virsh("undefine", name)
            _ = try await stream.event(within: .seconds(1), "\(name) undefined") { $0["name"] == name && $0["action"] == "undefined" }
            #expect(try await listed()[name] == nil)
            #expect(try await client.call(.get, "/kvm/localhost/guests/\(name)").status == .notFound)
        }
    }
}
