import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Readiness for systemd's `Type=notify`: one datagram to the socket `$NOTIFY_SOCKET` names, as
/// sd_notify(3) sends it. Without the variable (not started by systemd) nothing is sent.
public enum SystemdNotify {
    /// Sends `state` (e.g. `READY=1`) to `socketPath` (`@` at the start: Linux's abstract namespace).
    /// - Returns: whether the whole datagram was sent.
    @discardableResult
    public static func send(_ state: String,
                            socketPath: String? = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"]) -> Bool {
        guard let socketPath, !socketPath.isEmpty else { return false }
        var path = Array(socketPath.utf8)
        if path[0] == UInt8(ascii: "@") { path[0] = 0 }
        var address = sockaddr_un()
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, message, message.count, 0, $0, length) }
        }
        return sent == message.count
    }
}
