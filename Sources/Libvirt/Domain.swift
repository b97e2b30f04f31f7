internal import CLibvirt

/// A libvirt domain (a guest). Holds its libvirt handle; every method blocks.
public final class Domain: @unchecked Sendable {
    let pointer: OpaquePointer

    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { virDomainFree(pointer) }

    /// The domain's name.
    public var name: String {
        virDomainGetName(pointer).map { String(cString: $0) } ?? ""
    }

    /// The domain's UUID in its canonical dashed form.
    public var uuid: String {
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        guard virDomainGetUUIDString(pointer, &buffer) == 0 else { virResetLastError(); return "" }
        return String(cString: buffer)
    }

    /// The domain's current state.
    public func state() throws -> DomainState {
        var state: Int32 = 0
        var reason: Int32 = 0
        try check("virDomainGetState", virDomainGetState(pointer, &state, &reason, 0))
        return DomainState(rawValue: state) ?? .noState
    }

    /// Whether the domain is running (in any active state: running, paused, ...).
    public func isActive() throws -> Bool {
        try check("virDomainIsActive", virDomainIsActive(pointer)) == 1
    }

    /// Whether the domain has a persistent definition.
    public func isPersistent() throws -> Bool {
        try check("virDomainIsPersistent", virDomainIsPersistent(pointer)) == 1
    }

    /// The domain's XML description. `inactive` asks for the persistent definition rather than the live one.
    public func xml(inactive: Bool = false, secure: Bool = false) throws -> String {
        var flags: UInt32 = 0
        if inactive { flags |= VIR_DOMAIN_XML_INACTIVE.rawValue }
        if secure { flags |= VIR_DOMAIN_XML_SECURE.rawValue }
        return try takeString("virDomainGetXMLDesc", virDomainGetXMLDesc(pointer, flags))
    }

    /// Starts (boots) a defined domain.
    public func start() throws { try check("virDomainCreate", virDomainCreate(pointer)) }
    /// Asks the guest to shut down (ACPI); returns before it has.
    public func shutdown() throws { try check("virDomainShutdown", virDomainShutdown(pointer)) }
    /// Powers the domain off at once.
    public func destroy() throws { try check("virDomainDestroy", virDomainDestroy(pointer)) }
    /// Pauses the domain's CPUs.
    public func suspend() throws { try check("virDomainSuspend", virDomainSuspend(pointer)) }
    /// Resumes a paused domain.
    public func resume() throws { try check("virDomainResume", virDomainResume(pointer)) }
    /// Asks the guest to reboot.
    public func reboot() throws { try check("virDomainReboot", virDomainReboot(pointer, 0)) }
    /// Resets the domain at once, like a reset button.
    public func reset() throws { try check("virDomainReset", virDomainReset(pointer, 0)) }

    /// Removes the persistent definition, with its managed save image, snapshot metadata and NVRAM.
    public func undefine() throws {
        let flags = VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue
            | VIR_DOMAIN_UNDEFINE_NVRAM.rawValue | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue
        if virDomainUndefineFlags(pointer, flags) < 0 {
            let error = LibvirtError.last("virDomainUndefineFlags")
            // Drivers without the flags (e.g. older ones, the test driver for some) take the plain call.
            guard error.kind == .unsupported || error.kind == .invalidArgument else { throw error }
            try check("virDomainUndefine", virDomainUndefine(pointer))
        }
    }

    /// Sets whether the domain starts with the host.
    public func setAutostart(_ enabled: Bool) throws {
        try check("virDomainSetAutostart", virDomainSetAutostart(pointer, enabled ? 1 : 0))
    }

    /// Whether the domain starts with the host.
    public func autostart() throws -> Bool {
        var value: Int32 = 0
        try check("virDomainGetAutostart", virDomainGetAutostart(pointer, &value))
        return value != 0
    }

    /// Reads the custom metadata element stored under `namespace`, or nil when there is none.
    public func metadata(namespace: String) throws -> String? {
        guard let raw = virDomainGetMetadata(pointer, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue), namespace,
                                             VIR_DOMAIN_AFFECT_CONFIG.rawValue) else {
            let error = LibvirtError.last("virDomainGetMetadata")
            if error.kind == .notFound { return nil }
            throw error
        }
        defer { free(raw) }
        return String(cString: raw)
    }

    /// Replaces the custom metadata element under `namespace` (prefix `key`) in the persistent
    /// definition and, when the domain runs, in the live one. `nil` removes it.
    public func setMetadata(_ xml: String?, key: String, namespace: String) throws {
        var flags = VIR_DOMAIN_AFFECT_CONFIG.rawValue
        if (try? isActive()) == true { flags |= VIR_DOMAIN_AFFECT_LIVE.rawValue }
        try check("virDomainSetMetadata", virDomainSetMetadata(pointer, Int32(VIR_DOMAIN_METADATA_ELEMENT.rawValue),
                                                               xml, xml == nil ? nil : key, namespace, flags))
    }

    /// Attaches a device (XML) to the persistent definition, and to the live domain when it runs.
    public func attachDevice(_ xml: String) throws {
        try check("virDomainAttachDeviceFlags", virDomainAttachDeviceFlags(pointer, xml, liveAndConfigFlags()))
    }

    /// Detaches a device (XML) from the persistent definition, and from the live domain when it runs.
    public func detachDevice(_ xml: String) throws {
        try check("virDomainDetachDeviceFlags", virDomainDetachDeviceFlags(pointer, xml, liveAndConfigFlags()))
    }

    /// Changes a device (XML) in the persistent definition, and in the live domain when it runs.
    /// - Parameter force: for removable media, eject even when the guest has locked the tray.
    public func updateDevice(_ xml: String, force: Bool = false) throws {
        let flags = liveAndConfigFlags() | (force ? VIR_DOMAIN_DEVICE_MODIFY_FORCE.rawValue : 0)
        try check("virDomainUpdateDeviceFlags", virDomainUpdateDeviceFlags(pointer, xml, flags))
    }

    private func liveAndConfigFlags() -> UInt32 {
        var flags = VIR_DOMAIN_AFFECT_CONFIG.rawValue
        if (try? isActive()) == true { flags |= VIR_DOMAIN_AFFECT_LIVE.rawValue }
        return flags
    }
}

/// libvirt's domain states.
public enum DomainState: Int32, Sendable, CaseIterable {
    case noState = 0, running, blocked, paused, shutdown, shutoff, crashed, pmSuspended
}
