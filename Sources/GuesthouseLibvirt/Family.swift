import GuesthouseConfig
import GuesthouseCore

/// A Simplestack hypervisor family and how its hosts map onto libvirt URIs.
public struct Family: Sendable, Equatable {
    /// The canonical name, e.g. "kvm".
    public var name: String
    /// The URI for `localhost`, nil when the family has no local driver.
    public var localURI: String?
    /// The URI template for other hosts (`{host}` replaced), nil when only localhost is served.
    public var remoteTemplate: String?
    /// The domain type of new guests.
    public var domainType: String

    /// The built-in families, keyed by every name a path may use (aliases included).
    public static let builtIn: [String: Family] = {
        let kvm = Family(name: "kvm", localURI: "qemu:///system", remoteTemplate: "qemu+ssh://{host}/system",
                         domainType: "kvm")
        let vmware = Family(name: "vmware", localURI: nil, remoteTemplate: "esx://{host}/?no_verify=1",
                            domainType: "vmware")
        return [
            "test": Family(name: "test", localURI: "test:///default", remoteTemplate: nil, domainType: "test"),
            "kvm": kvm, "qemu": kvm,
            "xen": Family(name: "xen", localURI: "xen:///system", remoteTemplate: "xen+ssh://{host}/system",
                          domainType: "xen"),
            "lxc": Family(name: "lxc", localURI: "lxc:///system", remoteTemplate: "lxc+ssh://{host}/system",
                          domainType: "lxc"),
            "vmware": vmware, "esx": vmware,
            "hyperv": Family(name: "hyperv", localURI: nil, remoteTemplate: "hyperv://{host}/?transport=https",
                             domainType: "hyperv"),
        ]
    }()

    /// The built-in families with the configuration's `[family.*]` overrides applied.
    public static func table(config: Config) -> [String: Family] {
        var table = builtIn
        for (alias, family) in table {
            guard let override = config.families[family.name] ?? config.families[alias] else { continue }
            var f = family
            if let uri = override.uri { f.remoteTemplate = uri }
            if let local = override.localURI { f.localURI = local }
            if let type = override.domainType { f.domainType = type }
            table[alias] = f
        }
        return table
    }

    /// Whether the driver behind `uri` checks credentials itself (ESX, Hyper-V, SASL over TCP), so
    /// they are passed on to it instead of being checked against the server's users.
    public static func hypervisorChecksCredentials(uri: String) -> Bool {
        guard let scheme = uri.split(separator: ":", maxSplits: 1).first?.lowercased() else { return false }
        if ["esx", "gsx", "vpx", "hyperv"].contains(scheme) { return true }
        return scheme.hasSuffix("+tcp")
    }
}
