/// A disk of a domain, as its XML describes it.
public struct DomainDisk: Sendable, Equatable {
    /// "disk", "cdrom" or "floppy".
    public var device: String
    /// The source: a file path, a block device, or "pool/volume"; nil for an empty CD drive.
    public var source: String?
    /// For `<source pool= volume=>` disks.
    public var pool: String?
    public var volume: String?
    /// The target device name, e.g. "vda".
    public var target: String
    /// The bus, e.g. "virtio", "ide", "sata", "scsi".
    public var bus: String
    /// The image format, e.g. "qcow2", "raw".
    public var format: String?
    /// The driver's name, e.g. "qemu".
    public var driver: String?

    public init(device: String = "disk", source: String?, pool: String? = nil, volume: String? = nil,
                target: String, bus: String, format: String? = nil, driver: String? = nil) {
        self.driver = driver
        self.device = device
        self.source = source
        self.pool = pool
        self.volume = volume
        self.target = target
        self.bus = bus
        self.format = format
    }
}

/// A network interface of a domain.
public struct DomainInterface: Sendable, Equatable {
    public var mac: String
    /// The libvirt network name, for `type='network'`.
    public var network: String?
    /// The bridge, for `type='bridge'`.
    public var bridge: String?
    /// The device model, e.g. "virtio", "e1000".
    public var model: String?
    /// `false` when the link is set down.
    public var linkUp: Bool
    /// Inbound and outbound average rate limit in KiB/s, when set.
    public var inboundAverageKiB: Int?
    public var outboundAverageKiB: Int?
    /// The guest-side address the definition gives (`<ip address= prefix=>`), e.g. "10.0.0.5/24"
    /// (containers' eth0).
    public var address: String?
    /// The gateway of the definition's default route (`<route prefix='0' gateway=>`).
    public var gateway: String?
    /// The MTU the definition sets (`<mtu size=>`).
    public var mtu: Int?

    public init(mac: String, network: String? = nil, bridge: String? = nil, model: String? = nil, linkUp: Bool = true,
                inboundAverageKiB: Int? = nil, outboundAverageKiB: Int? = nil,
                address: String? = nil, gateway: String? = nil, mtu: Int? = nil) {
        self.mac = mac
        self.network = network
        self.bridge = bridge
        self.model = model
        self.linkUp = linkUp
        self.inboundAverageKiB = inboundAverageKiB
        self.outboundAverageKiB = outboundAverageKiB
        self.address = address
        self.gateway = gateway
        self.mtu = mtu
    }
}

/// The parts of a libvirt domain definition Guesthouse reads.
public struct DomainDefinition: Sendable {
    public var type: String
    public var name: String
    public var uuid: String
    /// Maximum memory in KiB.
    public var memoryKiB: UInt64
    public var vcpus: Int
    /// "hvm", "xen", "exe", ...
    public var osType: String
    public var arch: String?
    public var disks: [DomainDisk]
    public var interfaces: [DomainInterface]
    /// The VNC port of a running guest, when it has a VNC display.
    public var vncPort: Int?
    /// The address the VNC display listens on, when the definition says.
    public var vncListen: String?
    /// The guest's custom metadata elements, by namespace URI.
    public var metadata: [String: XMLTree]

    /// Parses a domain's XML description.
    /// - Throws: `GuesthouseError.invalidArguments` when it is not a domain document.
    public init(xml: String) throws {
        let root = try XMLTree.parse(xml)
        guard root.name == "domain" else { throw GuesthouseError.invalid("not a domain definition: <\(root.name)>") }
        type = root["type"] ?? ""
        name = root.child("name")?.trimmedText ?? ""
        uuid = root.child("uuid")?.trimmedText ?? ""
        memoryKiB = root.child("memory").map { Self.kibibytes($0) } ?? 0
        vcpus = Int(root.child("vcpu")?.trimmedText ?? "") ?? 1
        osType = root.path("os", "type")?.trimmedText ?? ""
        arch = root.path("os", "type")?["arch"]
        let devices = root.child("devices")
        disks = devices?.children("disk").map(Self.disk) ?? []
        interfaces = devices?.children("interface").map(Self.interface) ?? []
        let vnc = devices?.children("graphics").first { $0["type"] == "vnc" }
        vncPort = vnc.flatMap { Int($0["port"] ?? "") }
            .flatMap { $0 > 0 ? $0 : nil }
        vncListen = vnc?["listen"] ?? vnc?.child("listen")?["address"]
        var metadata: [String: XMLTree] = [:]
        for element in root.child("metadata")?.children ?? [] {
            if let ns = element.attributes.first(where: { $0.key.hasPrefix("xmlns") })?.value { metadata[ns] = element }
        }
        self.metadata = metadata
    }

    /// Whether the guest uses paravirtual (virtio or Xen PV) devices.
    public var isParavirtualized: Bool {
        if osType == "xen" || osType == "linux" { return true }
        let busses = disks.filter { $0.device == "disk" }.map(\.bus) + interfaces.compactMap(\.model)
        return !busses.isEmpty && busses.allSatisfy { $0 == "virtio" || $0 == "xen" || $0 == "netfront" }
    }

    static func kibibytes(_ node: XMLTree) -> UInt64 {
        let value = UInt64(node.trimmedText) ?? 0
        switch (node["unit"] ?? "KiB").lowercased() {
        case "b", "bytes": return value / 1024
        case "k", "kib": return value
        case "kb": return value * 1000 / 1024
        case "m", "mib": return value * 1024
        case "mb": return value * 1_000_000 / 1024
        case "g", "gib": return value * 1024 * 1024
        case "gb": return value * 1_000_000_000 / 1024
        case "t", "tib": return value * 1024 * 1024 * 1024
        default: return value
        }
    }

    private static func disk(_ node: XMLTree) -> DomainDisk {
        let source = node.child("source")
        return DomainDisk(
            device: node["device"] ?? "disk",
            source: source?["file"] ?? source?["dev"] ?? source?["name"] ?? source?["dir"]
                ?? source.flatMap { s in s["volume"].map { "\(s["pool"] ?? "")/\($0)" } },
            pool: source?["pool"], volume: source?["volume"],
            target: node.child("target")?["dev"] ?? "",
            bus: node.child("target")?["bus"] ?? "",
            format: node.child("driver")?["type"], driver: node.child("driver")?["name"])
    }

    private static func interface(_ node: XMLTree) -> DomainInterface {
        let source = node.child("source")
        let bandwidth = node.child("bandwidth")
        return DomainInterface(
            mac: node.child("mac")?["address"]?.lowercased() ?? "",
            network: node["type"] == "network" ? source?["network"] : nil,
            bridge: node["type"] == "bridge" ? source?["bridge"] : (node["type"] == "network" ? source?["bridge"] : nil),
            model: node.child("model")?["type"],
            linkUp: node.child("link")?["state"] != "down",
            inboundAverageKiB: bandwidth?.child("inbound")?["average"].flatMap { Int($0) },
            outboundAverageKiB: bandwidth?.child("outbound")?["average"].flatMap { Int($0) },
            address: node.child("ip").flatMap { ip in ip["address"].map { a in ip["prefix"].map { "\(a)/\($0)" } ?? a } },
            gateway: node.children("route").first { $0["prefix"] == "0" }?["gateway"],
            mtu: node.child("mtu")?["size"].flatMap { Int($0) })
    }
}
