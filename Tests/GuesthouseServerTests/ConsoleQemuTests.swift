import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseTestSupport
import HummingbirdTesting
import Libvirt
import NIOCore
import NIOWebSocket
import Testing

/// The consoles of a real `qemu:///system` guest made by vmango from the tiny test image, over the
/// server's websockets as a browser opens them: its serial console shows it booting, its VNC
/// display greets with the RFB banner, and closing either socket ends the console on libvirt's side.
@Suite(.serialized) struct ConsoleQemuTests {
    /// A session cookie and the machine's console paths on a server whose provider QEMU1 is a scratch
    /// provider with the tiny image, a running machine made from the built-in template.
    static func withMachine(_ body: @escaping @Sendable (_ port: Int, _ session: String, _ name: String) async throws -> Void)
        async throws {
        let image = try VmangoQemuTests.imagePath()
        let prefix = "ghcon-" + UUID().uuidString.prefix(8).lowercased()
        let scratch = try ScratchProvider.make(prefix: prefix)
        defer {
            scratch.tearDown()
            try? FileManager.default.removeItem(atPath: "/var/log/libvirt/qemu/\(prefix)-vm.log")  // qemu's log of the machine
        }
        try scratch.addImage(name: VmangoQemuTests.image, copying: image)
        var server = try TestServer.vmango { $0.server.sessionSecret = "console-secret-\(UUID().uuidString)" }
        server.config.hypervisors = ["QEMU1": scratch.hypervisorConfig(name: "QEMU1")]
        server.config.plans["tiny"] = PlanConfig(name: "tiny", memoryMiB: 192, cpus: 1, diskSizeGiB: 1)
        var kvm = FamilyConfig()
        kvm.domainType = "qemu"  // TCG: KVM is not usable here
        server.config.families["kvm"] = kvm
        try await server.runWithConsoles(operationTimeout: 600) { client in
            let port = try #require(client.port)
            let (cookies, _) = try await WebUITests.logIn(client)
            let name = prefix + "-vm"
            let created = try await client.form("/api/machines/", "Name=\(name)&Plan=tiny&Image=\(VmangoQemuTests.image)&Provider=QEMU1")
            #expect(created.status == .created, "\(created.text)")
            try await body(port, try #require(cookies["guesthouse_session"]), name)
        }
    }

    /// Opens `path` as a browser on the server's own page would.
    static func open(_ port: Int, _ path: String, session: String, protocols: String? = nil) async throws -> BrowserLikeWebSocket.Socket {
        var headers = [("Origin", "http://localhost:\(port)"), ("Cookie", "guesthouse_session=\(session)")]
        if let protocols { headers.append(("Sec-WebSocket-Protocol", protocols)) }
        guard case .upgraded(let socket) = try await BrowserLikeWebSocket.connect(port: port, path: path, headers: headers) else {
            throw GuesthouseError(.internalError, "the upgrade of \(path) was refused")
        }
        return socket
    }

    /// Reads binary messages until `done` says the collected bytes are enough, within `seconds`.
    static func read(_ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, seconds: Double,
                     until done: @escaping @Sendable ([UInt8]) -> Bool) async throws -> [UInt8] {
        try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask {
                var bytes: [UInt8] = []
                for try await frame in inbound where frame.opcode == .binary || frame.opcode == .continuation {
                    bytes += Array(frame.unmaskedData.readableBytesView)
                    if done(bytes) { return bytes }
                }
                return bytes
            }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first ?? []
        }
    }

    @Test func theSerialConsoleShowsTheGuestBootingAndAClosedSocketEndsTheStream() async throws {
        try await Self.withMachine { port, session, name in
            let conn = try Connection(uri: "qemu:///system")
            let domain = try conn.domain(name: name)
            // The built-in template gives the guest a pty console and a VNC display on loopback only.
            let tty = try CommandResult.run("virsh", ["-c", "qemu:///system", "ttyconsole", name])
            #expect(tty.stdout.hasPrefix("/dev/pts/"), "\(tty.stdout) \(tty.stderr)")
            let display = try CommandResult.run("virsh", ["-c", "qemu:///system", "domdisplay", name])
            #expect(display.stdout.hasPrefix("vnc://127.0.0.1:"), "\(display.stdout) \(display.stderr)")

            let socket = try await Self.open(port, "/machines/QEMU1/\(name)/console/serial/ws", session: session)
            try await socket.executeThenClose { inbound, outbound in
                // The console is open once the upgrade answered: a second, polite open is refused.
                #expect(throws: LibvirtError.self) { try domain.openSerialConsole(on: conn, force: false).close() }
                // Reset the guest so that its boot happens now, while the page watches.
                try domain.reset()
                let bytes = try await Self.read(inbound, seconds: 180) { String(decoding: $0, as: UTF8.self).contains("GUESTHOUSE-BOOTED") }
                let text = String(decoding: bytes, as: UTF8.self)
                #expect(text.contains("GUESTHOUSE-BOOTED"), "serial output: \(text.suffix(2000))")
                // The tab closes.
                try await outbound.write(BrowserLikeWebSocket.goingAway)
            }
            // The libvirt stream ended with the socket: the console can be opened again without force.
            let free = try await eventually(10) {
                guard let pipe = try? domain.openSerialConsole(on: conn, force: false) else { return false }
                pipe.close()
                return true
            }
            #expect(free, "the console stayed taken after the websocket closed")
        }
    }

    @Test func theVNCSocketGreetsWithTheRFBBannerAndAClosedSocketLeavesTheDisplay() async throws {
        try await Self.withMachine { port, session, name in
            @Sendable func vncClients() throws -> Int {
                let info = try CommandResult.run("virsh", ["-c", "qemu:///system", "qemu-monitor-command", name, "--hmp", "info vnc"])
                return info.stdout.components(separatedBy: "Client:").count - 1
            }
            #expect(try vncClients() == 0)
            let socket = try await Self.open(port, "/machines/QEMU1/\(name)/console/vnc/ws", session: session, protocols: "binary")
            try await socket.executeThenClose { inbound, outbound in
                let bytes = try await Self.read(inbound, seconds: 60) { $0.count >= 12 }
                let banner = String(decoding: bytes.prefix(12), as: UTF8.self)
                #expect(banner.hasPrefix("RFB 003.00") && banner.hasSuffix("\n"), "banner: \(banner.debugDescription)")
                #expect(try vncClients() == 1)
                try await outbound.write(BrowserLikeWebSocket.goingAway)
            }
            let gone = try await eventually(10) { try vncClients() == 0 }
            #expect(gone, "qemu still lists a VNC client after the websocket closed")
        }
    }

    @Test(.timeLimit(.minutes(5))) func aServerShuttingDownClosesItsOpenConsoles() async throws {
        let reader = Locked<Task<UInt16?, any Error>?>(nil)
        try await Self.withMachine { port, session, name in
            let socket = try await Self.open(port, "/machines/QEMU1/\(name)/console/vnc/ws", session: session, protocols: "binary")
            // The tab stays open while the server stops (the test server shuts down gracefully after this body):
            // hummingbird-websocket closes the socket, and the bridge then closes the console.
            reader.withLock { $0 = Task {
                try await socket.executeThenClose { inbound, _ in
                    for try await frame in inbound where frame.opcode == .connectionClose {
                        var data = frame.unmaskedData
                        return data.readInteger(as: UInt16.self)
                    }
                    return nil
                }
            } }
        }
        let code = try await reader.withLock { $0 }?.value
        #expect(code == 1000, "the socket ended without the server's close frame (\(String(describing: code)))")
    }
}
