internal import CLibvirt
import Foundation

/// Receives a connection's events on the event loop thread; it must return quickly.
public typealias LibvirtEventHandler = @Sendable (LibvirtEvent) -> Void

extension Connection {
    /// Registers `handler` for every domain event Guesthouse follows (lifecycle, reboot, device
    /// added and removed, tray and disk changes, metadata changes, completed jobs), storage pool
    /// lifecycle and refresh events, and the connection's close. Events arrive on the thread of a
    /// running `LibvirtEventLoop`. Registrations end with the connection (it deregisters them
    /// before it closes), or with `unsubscribeAll`.
    /// - Throws: `LibvirtError` when the driver has no domain lifecycle events at all.
    public func subscribe(_ handler: @escaping LibvirtEventHandler) throws {
        let sink = EventSink(handler)
        closeState.addHandler { reason in handler(.closed(reason)) }
        var domainIDs: [Int32] = []
        for (id, callback) in EventSink.domainCallbacks {
            let opaque = Unmanaged.passRetained(sink).toOpaque()
            let registered = virConnectDomainEventRegisterAny(pointer, nil, id, callback, opaque, EventSink.release)
            if registered >= 0 {
                domainIDs.append(registered)
            } else {
                let error = LibvirtError.last("virConnectDomainEventRegisterAny")
                Unmanaged<EventSink>.fromOpaque(opaque).release()
                if id == Int32(VIR_DOMAIN_EVENT_ID_LIFECYCLE.rawValue) {
                    registrations.add(domain: domainIDs, pool: [])
                    throw error
                }
            }
        }
        var poolIDs: [Int32] = []
        for (id, callback) in EventSink.poolCallbacks {
            let opaque = Unmanaged.passRetained(sink).toOpaque()
            let registered = virConnectStoragePoolEventRegisterAny(pointer, nil, id, callback, opaque, EventSink.release)
            if registered >= 0 {
                poolIDs.append(registered)
            } else {
                virResetLastError()  // drivers without storage (ESX, Hyper-V) have no pool events
                Unmanaged<EventSink>.fromOpaque(opaque).release()
            }
        }
        registrations.add(domain: domainIDs, pool: poolIDs)
    }

    /// Deregisters every event callback `subscribe` registered. Blocks (a remote call).
    public func unsubscribeAll() {
        let (domainIDs, poolIDs) = registrations.takeAll()
        for id in domainIDs where virConnectDomainEventDeregisterAny(pointer, id) < 0 { virResetLastError() }
        for id in poolIDs where virConnectStoragePoolEventDeregisterAny(pointer, id) < 0 { virResetLastError() }
    }
}

/// The callback ids a connection registered (each keeps a reference on libvirt's connection, so
/// they are deregistered before it closes).
final class EventRegistrations: @unchecked Sendable {
    private let lock = NSLock()
    private var domainIDs: [Int32] = []
    private var poolIDs: [Int32] = []

    func add(domain: [Int32], pool: [Int32]) {
        lock.withLock {
            domainIDs += domain
            poolIDs += pool
        }
    }

    func takeAll() -> ([Int32], [Int32]) {
        lock.withLock {
            defer { domainIDs = []; poolIDs = [] }
            return (domainIDs, poolIDs)
        }
    }
}

/// The Swift side of libvirt's C callbacks: one per subscription, retained once per registration
/// and released by libvirt's free callback.
final class EventSink: @unchecked Sendable {
    let handler: LibvirtEventHandler
    init(_ handler: @escaping LibvirtEventHandler) { self.handler = handler }

    static let release: virFreeCallback = { opaque in
        guard let opaque else { return }
        Unmanaged<EventSink>.fromOpaque(opaque).release()
    }

    static func deliver(_ opaque: UnsafeMutableRawPointer?, _ domain: OpaquePointer?, _ kind: DomainEventKind) {
        guard let opaque, let domain else { return }
        let sink = Unmanaged<EventSink>.fromOpaque(opaque).takeUnretainedValue()
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        guard virDomainGetUUIDString(domain, &buffer) == 0 else { virResetLastError(); return }
        let name = virDomainGetName(domain).map { String(cString: $0) } ?? ""
        sink.handler(.domain(uuid: String(cString: buffer), name: name, kind))
    }

    static func deliver(_ opaque: UnsafeMutableRawPointer?, pool: OpaquePointer?, _ kind: StoragePoolEventKind) {
        guard let opaque, let pool else { return }
        let sink = Unmanaged<EventSink>.fromOpaque(opaque).takeUnretainedValue()
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        guard virStoragePoolGetUUIDString(pool, &buffer) == 0 else { virResetLastError(); return }
        let name = virStoragePoolGetName(pool).map { String(cString: $0) } ?? ""
        sink.handler(.storagePool(uuid: String(cString: buffer), name: name, kind))
    }

    static func text(_ pointer: UnsafePointer<CChar>?) -> String { pointer.map { String(cString: $0) } ?? "" }

    // libvirt takes every domain callback as the generic type and calls it with the signature of its
    // event id (VIR_DOMAIN_EVENT_CALLBACK); the casts below are what that C macro does.
    typealias Lifecycle = @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Void
    typealias Alias = @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void
    typealias Tray = @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafeMutableRawPointer?) -> Void
    typealias Disk = @convention(c) (OpaquePointer?, OpaquePointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?,
                                     UnsafePointer<CChar>?, Int32, UnsafeMutableRawPointer?) -> Void
    typealias Metadata = @convention(c) (OpaquePointer?, OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void
    typealias Job = @convention(c) (OpaquePointer?, OpaquePointer?, virTypedParameterPtr?, Int32, UnsafeMutableRawPointer?) -> Void
    typealias PoolLifecycle = @convention(c) (OpaquePointer?, OpaquePointer?, Int32, Int32, UnsafeMutableRawPointer?) -> Void

    static let domainCallbacks: [(Int32, virConnectDomainEventGenericCallback)] = {
        let lifecycle: Lifecycle = { _, dom, event, detail, opaque in
            guard let kind = DomainLifecycle(rawValue: event) else { return }
            deliver(opaque, dom, .lifecycle(kind, detail: detail))
        }
        let reboot: virConnectDomainEventGenericCallback = { _, dom, opaque in deliver(opaque, dom, .rebooted) }
        let added: Alias = { _, dom, alias, opaque in deliver(opaque, dom, .deviceAdded(text(alias))) }
        let removed: Alias = { _, dom, alias, opaque in deliver(opaque, dom, .deviceRemoved(text(alias))) }
        let tray: Tray = { _, dom, alias, _, opaque in deliver(opaque, dom, .trayChanged(text(alias))) }
        let disk: Disk = { _, dom, _, _, alias, _, opaque in deliver(opaque, dom, .diskChanged(text(alias))) }
        let metadata: Metadata = { _, dom, _, _, opaque in deliver(opaque, dom, .metadataChanged) }
        let job: Job = { _, dom, _, _, opaque in deliver(opaque, dom, .jobCompleted) }
        func generic<T>(_ callback: T) -> virConnectDomainEventGenericCallback {
            unsafeBitCast(callback, to: virConnectDomainEventGenericCallback.self)
        }
        return [
            (Int32(VIR_DOMAIN_EVENT_ID_LIFECYCLE.rawValue), generic(lifecycle)),
            (Int32(VIR_DOMAIN_EVENT_ID_REBOOT.rawValue), reboot),
            (Int32(VIR_DOMAIN_EVENT_ID_DEVICE_ADDED.rawValue), generic(added)),
            (Int32(VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED.rawValue), generic(removed)),
            (Int32(VIR_DOMAIN_EVENT_ID_TRAY_CHANGE.rawValue), generic(tray)),
            (Int32(VIR_DOMAIN_EVENT_ID_DISK_CHANGE.rawValue), generic(disk)),
            (Int32(VIR_DOMAIN_EVENT_ID_METADATA_CHANGE.rawValue), generic(metadata)),
            (Int32(VIR_DOMAIN_EVENT_ID_JOB_COMPLETED.rawValue), generic(job)),
        ]
    }()

    static let poolCallbacks: [(Int32, virConnectStoragePoolEventGenericCallback)] = {
        let lifecycle: PoolLifecycle = { _, pool, event, _, opaque in
            let kinds: [StoragePoolEventKind] = [.defined, .undefined, .started, .stopped, .created, .deleted]
            guard event >= 0, Int(event) < kinds.count else { return }
            deliver(opaque, pool: pool, kinds[Int(event)])
        }
        let refresh: virConnectStoragePoolEventGenericCallback = { _, pool, opaque in
            deliver(opaque, pool: pool, .refreshed)
        }
        return [
            (Int32(VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE.rawValue),
             unsafeBitCast(lifecycle, to: virConnectStoragePoolEventGenericCallback.self)),
            (Int32(VIR_STORAGE_POOL_EVENT_ID_REFRESH.rawValue), refresh),
        ]
    }()
}
