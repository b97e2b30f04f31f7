import Foundation
import GuesthouseConfig
import Hummingbird
import HummingbirdTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP port that accepts connections (the kernel completes the handshake) and never
/// answers: a hypervisor that hangs.
final class SilentListener: @unchecked Sendable {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }
}

@Suite struct ReachabilityTests {
    @Test func aDeadHostAnswers502() async throws {
        let server = try TestServer { config in
            var kvm = FamilyConfig()
            kvm.uri = "qemu+tcp://{host}:1/system"  // nothing listens on port 1
            config.families["kvm"] = kvm
            config.simplestack.hosts = ["127.0.0.1"]
        }
        try await server.run { client in
            let r = try await client.call(.get, "/kvm/127.0.0.1/guests")
            #expect(r.status == .badGateway)
            #expect(object(r.json)["error"] as? String == "HypervisorError")
        }
    }

    @Test func aHostThatHangsAnswers502WithinItsTimeoutAndDoesNotDelayOthers() async throws {
        let listener = try SilentListener()
        let server = try TestServer(connectTimeout: 1) { config in
            var kvm = FamilyConfig()
            kvm.uri = "qemu+tcp://{host}:\(listener.port)/system"
            config.families["kvm"] = kvm
            config.simplestack.hosts = ["localhost", "127.0.0.1"]
        }
        try await server.run { client in
            let started = ContinuousClock.now
            async let hung = client.call(.get, "/kvm/127.0.0.1/guests")
            let other = try await client.call(.get, "/test/localhost/guests")
            #expect(other.status == .ok)
            let r = try await hung
            #expect(r.status == .badGateway)
            #expect((object(r.json)["message"] as? String)?.contains("did not answer") == true)
            #expect(ContinuousClock.now - started < .seconds(8), "the timeout was not enforced")
        }
        withExtendedLifetime(listener) {}
    }
}
