import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A client on a bare socket, for tests that send part of a request or read part of a response
/// and then hang up (which an HTTP client library does not let a test do).
struct RawHTTPClient {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`; reads give up after `timeoutSeconds` (a test never hangs).
    init(port: Int, timeoutSeconds: Int = 120) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            _ = Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    /// Sends `bytes`; how many were sent.
    func send(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads up to `count` bytes into `buffer`; 0 at the end, negative on error.
    func receive(into buffer: inout [UInt8]) -> Int {
        buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    }

    /// A response head: the bytes up to the first empty line ("" when the connection ends or
    /// the read times out first).
    func readHead() -> String {
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while head.count < 16 << 10, recv(fd, &byte, 1, 0) == 1 {
            head.append(byte)
            if head.suffix(4) == [13, 10, 13, 10] { return String(decoding: head, as: UTF8.self) }
        }
        return ""
    }

    /// Hangs up.
    func close() { _ = Glibc.close(fd) }
}

/// Runs blocking `work` (a socket read, a tool) on a thread of its own: a test must not hold a thread
/// of the cooperative pool, which the servers under test in this process need to answer it.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
