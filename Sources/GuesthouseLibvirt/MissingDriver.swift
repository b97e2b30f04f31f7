import GuesthouseCore
import Libvirt

/// A family whose libvirt driver is missing here answers 501 `FeatureNotImplemented` naming the
/// family and, where Debian has one, the package that brings the driver; not a 400 or a 502.
enum MissingDriver {
    /// By libvirt driver (a URI's scheme without its transport): the family that uses it and the
    /// Debian 12 package with the daemon's driver, nil for drivers built into the client library
    /// (libvirt0), which no package adds.
    static let drivers: [String: (family: String, package: String?)] = [
        "qemu": ("kvm", "libvirt-daemon-driver-qemu"),
        "xen": ("xen", "libvirt-daemon-driver-xen"),
        "lxc": ("lxc", "libvirt-daemon-driver-lxc"),
        "vbox": ("vbox", "libvirt-daemon-driver-vbox"),
        "esx": ("vmware", nil),
        "hyperv": ("hyperv", nil),
    ]

    /// The 501 for a failed connect to `uri`, or nil when `error` does not say the driver is missing.
    static func error(_ error: LibvirtError, uri: String) -> GuesthouseError? {
        let driver = String(uri.prefix { $0 != ":" && $0 != "+" }).lowercased()
        let known = drivers[driver]
        let family = known?.family ?? driver
        if error.message.contains("libvirt was built without the") {
            // The client library decides: a driver built into libvirt0 (esx, hyperv) or missing from it.
            return .notImplemented("the \(family) family is not available here: this server's libvirt was built "
                                   + "without the '\(driver)' driver, and no Debian package adds it (\(error.message))")
        }
        guard error.message.contains("no connection driver available") else { return nil }
        let package = known?.package.map { "; on Debian the package \($0) brings it" } ?? ""
        return .notImplemented("the \(family) family is not available here: libvirt at \(uri) has no '\(driver)' "
                               + "driver (\(error.message))\(package)")
    }
}
