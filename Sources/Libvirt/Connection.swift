internal import CLibvirt
import Foundation

/// Credentials handed to libvirt when a driver asks for them (SASL on remote hosts, ESX, Hyper-V).
public struct LibvirtCredentials: Sendable, Hashable {
    public var username: String
    public var password: String
    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// An open connection to one hypervisor. Thread-safe, as libvirt's connections are.
/// Every method blocks: call them through a `LibvirtExecutor`.
public final class Connection: @unchecked Sendable {
    let pointer: OpaquePointer
    /// The URI this connection was opened with.
    public let uri: String
    let closeState: CloseState
    /// Event callbacks registered by `subscribe`, deregistered before the connection closes.
    let registrations = EventRegistrations()

    /// Opens a connection to `uri`. Credentials, when given, answer libvirt's authentication prompts.
    /// Without them, what libvirt asks for comes from its auth file (the URI's `authfile=`,
    /// `LIBVIRT_AUTH_FILE`, or libvirt's default places), and nothing is ever prompted for.
    /// - Throws: `LibvirtError` when the hypervisor cannot be reached or refuses the credentials.
    public init(uri: String, credentials: LibvirtCredentials? = nil) throws {
        Libvirt.initialize()
        self.uri = uri
        let opened = Connection.openAuthenticated(uri: uri, credentials: credentials)
        guard let opened else { throw LibvirtError.last("virConnectOpen(\(uri))") }
        pointer = opened
        closeState = CloseState()
        let opaque = Unmanaged.passRetained(closeState).toOpaque()
        let registered = virConnectRegisterCloseCallback(pointer, { _, reason, opaque in
            guard let opaque else { return }
            Unmanaged<CloseState>.fromOpaque(opaque).takeUnretainedValue()
                .markClosed(CloseReason(rawValue: reason) ?? .error)
        }, opaque, { opaque in
            guard let opaque else { return }
            Unmanaged<CloseState>.fromOpaque(opaque).release()
        })
        if registered < 0 {
            // Local drivers have no close callback; they never drop.
            virResetLastError()
            Unmanaged<CloseState>.fromOpaque(opaque).release()
        }
    }

    deinit {
        // Each event registration holds a reference on libvirt's connection: drop them first.
        unsubscribeAll()
        virConnectClose(pointer)
    }

    /// `virConnectOpenAuth` with a callback answering from `credentials`; without them it refuses
    /// every question, so that libvirt still fills what it can from its auth file (a plain
    /// `virConnectOpen` gives SASL no callbacks at all, and its mechanisms then refuse to start).
    private static func openAuthenticated(uri: String, credentials: LibvirtCredentials?) -> OpaquePointer? {
        let box = Unmanaged.passRetained(CredentialBox(credentials))
        defer { box.release() }
        var types: [Int32] = [
            Int32(VIR_CRED_AUTHNAME.rawValue), Int32(VIR_CRED_USERNAME.rawValue),
            Int32(VIR_CRED_PASSPHRASE.rawValue), Int32(VIR_CRED_NOECHOPROMPT.rawValue),
        ]
        return types.withUnsafeMutableBufferPointer { typesBuffer in
            var auth = virConnectAuth(
                credtype: typesBuffer.baseAddress, ncredtype: UInt32(typesBuffer.count),
                cb: { creds, count, data in
                    guard let creds, let data else { return -1 }
                    let box = Unmanaged<CredentialBox>.fromOpaque(data).takeUnretainedValue()
                    guard let credentials = box.credentials else { return -1 }
                    for i in 0..<Int(count) {
                        let answer: String
                        switch UInt32(bitPattern: creds[i].type) {
                        case VIR_CRED_AUTHNAME.rawValue, VIR_CRED_USERNAME.rawValue: answer = credentials.username
                        case VIR_CRED_PASSPHRASE.rawValue, VIR_CRED_NOECHOPROMPT.rawValue: answer = credentials.password
                        default: return -1
                        }
                        creds[i].result = strdup(answer)
                        creds[i].resultlen = UInt32(answer.utf8.count)
                    }
                    return 0
                },
                cbdata: box.toOpaque())
            return virConnectOpenAuth(uri, &auth, 0)
        }
    }

    /// True while the connection works: libvirt says it is alive and it was not closed under us.
    public var isAlive: Bool {
        !closeState.isClosed && virConnectIsAlive(pointer) == 1
    }

    /// Asks libvirt to probe a remote peer every `interval` seconds and drop it after `count` misses.
    public func setKeepAlive(interval: Int32, count: UInt32) {
        if virConnectSetKeepAlive(pointer, interval, count) < 0 { virResetLastError() }
    }

    /// The hypervisor's host name.
    public func hostname() throws -> String {
        try takeString("virConnectGetHostname", virConnectGetHostname(pointer))
    }

    /// The host's SMBIOS information as XML (`<sysinfo>`), from `virConnectGetSysinfo`.
    public func sysinfo() throws -> String {
        try takeString("virConnectGetSysinfo", virConnectGetSysinfo(pointer, 0))
    }

    /// The hypervisor's capabilities XML.
    public func capabilities() throws -> String {
        try takeString("virConnectGetCapabilities", virConnectGetCapabilities(pointer))
    }

    /// The hypervisor driver's version, e.g. "9.0.0", or nil when the driver does not say.
    public func hypervisorVersion() -> String? {
        var version: UInt = 0
        guard virConnectGetVersion(pointer, &version) == 0 else { virResetLastError(); return nil }
        return Libvirt.formatVersion(version)
    }

    /// The libvirt version of the daemon (or library) serving this connection.
    public func libvirtVersion() throws -> String {
        var version: UInt = 0
        try check("virConnectGetLibVersion", virConnectGetLibVersion(pointer, &version))
        return Libvirt.formatVersion(version)
    }

    /// The driver's name, e.g. "QEMU", "Test", "LXC".
    public func driverType() throws -> String {
        guard let type = virConnectGetType(pointer) else { throw LibvirtError.last("virConnectGetType") }
        return String(cString: type)
    }

    /// The host's CPU and memory figures.
    public func nodeInfo() throws -> NodeInfo {
        var info = virNodeInfo()
        try check("virNodeGetInfo", virNodeGetInfo(pointer, &info))
        let model = withUnsafeBytes(of: info.model) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return NodeInfo(model: model, memoryKiB: UInt64(info.memory), cpus: Int(info.cpus), mhz: Int(info.mhz))
    }

    /// Free memory on the host in bytes, or nil when the driver cannot tell.
    public func freeMemory() -> UInt64? {
        let free = virNodeGetFreeMemory(pointer)
        if free == 0 { virResetLastError(); return nil }
        return UInt64(free)
    }
}

/// A host's CPU and memory, as `virNodeGetInfo` reports them.
public struct NodeInfo: Sendable, Equatable {
    public var model: String
    public var memoryKiB: UInt64
    public var cpus: Int
    public var mhz: Int
}

private final class CredentialBox {
    let credentials: LibvirtCredentials?
    init(_ credentials: LibvirtCredentials?) { self.credentials = credentials }
}

/// Set from libvirt's close callback (on the event loop thread) when a remote connection drops;
/// tells the handlers `subscribe` added.
final class CloseState: @unchecked Sendable {
    private let lock = NSLock()
    private var closed = false
    private var handlers: [@Sendable (CloseReason) -> Void] = []
    var isClosed: Bool { lock.withLock { closed } }

    func markClosed(_ reason: CloseReason) {
        let handlers = lock.withLock {
            closed = true
            return self.handlers
        }
        for handler in handlers { handler(reason) }
    }

    func addHandler(_ handler: @escaping @Sendable (CloseReason) -> Void) {
        lock.withLock { handlers.append(handler) }
    }
}
