/// Something libvirt reported on a connection, as a Swift value (see `Connection.subscribe`).
public enum LibvirtEvent: Sendable, Equatable {
    /// A domain changed; `uuid` is dashed.
    case domain(uuid: String, name: String, DomainEventKind)
    /// A storage pool changed.
    case storagePool(uuid: String, name: String, StoragePoolEventKind)
    /// The connection was closed under us (the daemon went away, keepalive gave up, ...).
    case closed(CloseReason)
}

/// What happened to a domain.
public enum DomainEventKind: Sendable, Equatable {
    /// A lifecycle change (defined, started, stopped, ...) with libvirt's detail code.
    case lifecycle(DomainLifecycle, detail: Int32)
    case rebooted
    /// A device was added to or removed from the live domain (its alias).
    case deviceAdded(String)
    case deviceRemoved(String)
    /// A removable drive's tray opened or closed (the drive's alias).
    case trayChanged(String)
    /// A removable disk's medium changed (the drive's alias).
    case diskChanged(String)
    case metadataChanged
    case jobCompleted
}

/// libvirt's `virDomainEventType`.
public enum DomainLifecycle: Int32, Sendable {
    case defined = 0, undefined, started, suspended, resumed, stopped, shutdown, pmSuspended, crashed

    /// The `detail` of `defined` and `undefined` that says the domain was only renamed.
    public static let renamedDetail: Int32 = 2
    /// The `detail` of `undefined` that says the domain was only renamed.
    public static let undefinedRenamedDetail: Int32 = 1
}

/// What happened to a storage pool.
public enum StoragePoolEventKind: Sendable, Equatable {
    case defined, undefined, started, stopped, created, deleted, refreshed
}

/// Why a connection closed: libvirt's `virConnectCloseReason`.
public enum CloseReason: Int32, Sendable {
    case error = 0, endOfFile, keepalive, client
}
