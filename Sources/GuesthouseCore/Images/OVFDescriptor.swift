import Foundation

/// What Guesthouse reads from an OVF descriptor (DMTF DSP0243): the virtual system's name, CPUs
/// (VirtualHardwareSection items of ResourceType 3), memory (ResourceType 4, in its
/// AllocationUnits), disks (ResourceType 17 items through DiskSection to References), each with
/// the bus of its controller, and network adapters (ResourceType 10). Namespace prefixes are ignored.
public struct OVFDescriptor: Sendable, Equatable {
    public struct Disk: Sendable, Equatable {
        /// The archive member holding the disk (References/File's href).
        public var file: String
        /// "virtio", "ide", "sata" or "scsi", from the item's parent controller.
        public var bus: String

        public init(file: String, bus: String) {
            self.file = file
            self.bus = bus
        }
    }

    /// A network adapter (an Item of ResourceType 10).
    public struct Network: Sendable, Equatable {
        /// The OVF network it connects to (its Connection), "" when it names none.
        public var connection: String
        /// The libvirt NIC model for its ResourceSubType: e1000 (also the default, which guests
        /// made on VMware or VirtualBox have drivers for), e1000e, vmxnet3, rtl8139, pcnet or virtio.
        public var model: String

        public init(connection: String, model: String) {
            self.connection = connection
            self.model = model
        }
    }

    public var name: String
    public var cpus: Int
    public var memoryMiB: Int
    public var disks: [Disk]
    public var networks: [Network]

    /// Parses the descriptor's XML.
    /// - Throws: `invalidArguments` naming what is missing or malformed.
    public init(parsing xml: String) throws {
        let root = try XMLTree.parse(xml)
        guard Self.local(root.name) == "Envelope" else { throw GuesthouseError.invalid("the OVF descriptor is not an Envelope") }
        guard let system = Self.first(root, "VirtualSystem") ?? Self.first(Self.first(root, "VirtualSystemCollection"), "VirtualSystem") else {
            throw GuesthouseError.invalid("the OVF descriptor has no VirtualSystem")
        }
        let name = Self.first(system, "Name")?.trimmedText ?? Self.attribute(system, "id") ?? ""
        guard !name.isEmpty else { throw GuesthouseError.invalid("the OVF descriptor names no virtual system") }
        guard let hardware = Self.first(system, "VirtualHardwareSection") else {
            throw GuesthouseError.invalid("the OVF descriptor has no VirtualHardwareSection")
        }
        let items = hardware.children.filter { ["Item", "StorageItem", "EthernetPortItem"].contains(Self.local($0.name)) }
        func field(_ item: XMLTree, _ name: String) -> String? { Self.first(item, name)?.trimmedText }
        func ofType(_ type: Int) -> [XMLTree] { items.filter { field($0, "ResourceType").flatMap { Int($0) } == type } }

        guard let cpuText = ofType(3).first.flatMap({ field($0, "VirtualQuantity") }), let cpus = Int(cpuText), cpus > 0 else {
            throw GuesthouseError.invalid("the OVF descriptor gives no CPU count (an Item of ResourceType 3)")
        }
        guard let memoryItem = ofType(4).first, let quantity = field(memoryItem, "VirtualQuantity").flatMap({ UInt64($0) }) else {
            throw GuesthouseError.invalid("the OVF descriptor gives no memory (an Item of ResourceType 4)")
        }
        let unit = try Self.bytes(ofUnit: field(memoryItem, "AllocationUnits") ?? "byte * 2^20")
        let (memoryBytes, overflow) = quantity.multipliedReportingOverflow(by: unit)
        guard !overflow else { throw GuesthouseError.invalid("the OVF descriptor's memory is too large") }

        // Disks: ResourceType 17 items name "ovf:/disk/<diskId>"; DiskSection maps the id to a
        // file reference; References maps that to the archive member.
        var files: [String: String] = [:]
        for file in Self.first(root, "References")?.children.filter({ Self.local($0.name) == "File" }) ?? [] {
            if let id = Self.attribute(file, "id"), let href = Self.attribute(file, "href") { files[id] = href }
        }
        var diskFiles: [String: String] = [:]
        var diskOrder: [String] = []
        for disk in Self.first(root, "DiskSection")?.children.filter({ Self.local($0.name) == "Disk" }) ?? [] {
            guard let id = Self.attribute(disk, "diskId") else { continue }
            guard let ref = Self.attribute(disk, "fileRef"), let href = files[ref] else {
                throw GuesthouseError.invalid("OVF disk '\(id)' has no file in References (empty disks are not supported)")
            }
            diskFiles[id] = href
            diskOrder.append(id)
        }
        var controllers: [String: String] = [:]
        for item in items {
            guard let id = field(item, "InstanceID") else { continue }
            switch field(item, "ResourceType").flatMap({ Int($0) }) {
            case 5: controllers[id] = "ide"
            case 6: controllers[id] = "scsi"
            case 20: controllers[id] = "sata"
            default: break
            }
        }
        var disks: [Disk] = []
        for item in ofType(17) {
            guard let resource = field(item, "HostResource") else { continue }
            let id = resource.split(separator: "/").last.map(String.init) ?? resource
            guard let href = diskFiles[id] else {
                throw GuesthouseError.invalid("OVF disk item '\(resource)' names no disk of DiskSection")
            }
            disks.append(Disk(file: href, bus: field(item, "Parent").flatMap { controllers[$0] } ?? "virtio"))
        }
        if disks.isEmpty { disks = diskOrder.compactMap { diskFiles[$0] }.map { Disk(file: $0, bus: "virtio") } }
        guard !disks.isEmpty else { throw GuesthouseError.invalid("the OVF descriptor has no disks") }
        for disk in disks where disk.file.isEmpty || disk.file.hasPrefix("/") || disk.file.contains("..") || disk.file.contains("://") {
            throw GuesthouseError.invalid("OVF file reference '\(disk.file)' is not a member of the archive")
        }

        self.networks = ofType(10).map { item in
            Network(connection: field(item, "Connection") ?? "", model: Self.nicModel(field(item, "ResourceSubType")))
        }
        self.name = name
        self.cpus = cpus
        self.memoryMiB = Int(clamping: memoryBytes >> 20)
        self.disks = disks
    }

    /// The libvirt model for an adapter's ResourceSubType.
    static func nicModel(_ subtype: String?) -> String {
        switch subtype?.lowercased().replacingOccurrences(of: "-", with: "") {
        case "e1000e": "e1000e"
        case "vmxnet3": "vmxnet3"
        case "rtl8139": "rtl8139"
        case "pcnet32", "pcnet": "pcnet"
        case "virtio", "virtionet": "virtio"
        default: "e1000"
        }
    }

    /// Bytes of an OVF allocation unit: "byte * 2^20", "byte*1024", "MegaBytes", "GB", ...
    static func bytes(ofUnit text: String) throws -> UInt64 {
        let unit = text.lowercased().replacingOccurrences(of: " ", with: "")
        if unit.hasPrefix("byte*") {
            let factor = unit.dropFirst(5)
            if factor.hasPrefix("2^"), let exponent = Int(factor.dropFirst(2)), (0...62).contains(exponent) {
                return 1 << UInt64(exponent)
            }
            if let value = UInt64(factor), value > 0 { return value }
        }
        switch unit {
        case "byte", "bytes": return 1
        case "kilobyte", "kilobytes", "kb", "kib": return 1 << 10
        case "megabyte", "megabytes", "mb", "mib": return 1 << 20
        case "gigabyte", "gigabytes", "gb", "gib": return 1 << 30
        default: throw GuesthouseError.invalid("the OVF allocation unit '\(text)' is not understood")
        }
    }

    static func local(_ name: String) -> String { name.split(separator: ":").last.map(String.init) ?? name }

    static func first(_ tree: XMLTree?, _ name: String) -> XMLTree? { tree?.children.first { local($0.name) == name } }

    static func attribute(_ tree: XMLTree, _ name: String) -> String? {
        tree.attributes.first { local($0.key) == name }?.value
    }
}
