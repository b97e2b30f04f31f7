/// Everything needed to write a new domain's XML. Every string is escaped when rendered.
public struct NewDomain: Sendable, Equatable {
    public enum OS: Sendable, Equatable {
        /// A fully virtualised machine booting from its disks.
        case hvm(arch: String)
        /// A container running `init` (libvirt-LXC).
        case exe(init: String)
    }

    public struct Disk: Sendable, Equatable {
        public var pool: String
        public var volume: String
        public var format: String
        public var target: String
        public var bus: String
        public var device: String
        public var readOnly: Bool
        public init(pool: String, volume: String, format: String = "qcow2", target: String, bus: String = "virtio",
                    device: String = "disk", readOnly: Bool = false) {
            self.pool = pool
            self.volume = volume
            self.format = format
            self.target = target
            self.bus = bus
            self.device = device
            self.readOnly = readOnly
        }
    }

    public struct Interface: Sendable, Equatable {
        public var network: String
        public var mac: String?
        public var model: String
        public init(network: String, mac: String? = nil, model: String = "virtio") {
            self.network = network
            self.mac = mac
            self.model = model
        }
    }

    public var type: String
    public var name: String
    public var uuid: String?
    public var memoryMiB: Int
    public var cpus: Int
    public var os: OS
    public var disks: [Disk]
    public var interfaces: [Interface]
    /// Complete metadata elements (already rendered, with their namespace), placed in `<metadata>`.
    public var metadata: [String]
    /// Adds a serial console (a pty) for HVM guests.
    public var serialConsole: Bool

    public init(type: String, name: String, uuid: String? = nil, memoryMiB: Int, cpus: Int, os: OS,
                disks: [Disk] = [], interfaces: [Interface] = [], metadata: [String] = [], serialConsole: Bool = true) {
        self.type = type
        self.name = name
        self.uuid = uuid
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.os = os
        self.disks = disks
        self.interfaces = interfaces
        self.metadata = metadata
        self.serialConsole = serialConsole
    }

    /// The domain XML libvirt takes in `virDomainDefineXML`.
    public func renderXML() -> String {
        var lines: [String] = []
        lines.append("<domain type='\(xmlEscape(type))'>")
        lines.append("  <name>\(xmlEscape(name))</name>")
        if let uuid { lines.append("  <uuid>\(xmlEscape(uuid))</uuid>") }
        if !metadata.isEmpty {
            lines.append("  <metadata>")
            lines += metadata.map { "    " + $0 }
            lines.append("  </metadata>")
        }
        lines.append("  <memory unit='MiB'>\(memoryMiB)</memory>")
        lines.append("  <vcpu>\(cpus)</vcpu>")
        lines.append("  <os>")
        switch os {
        case .hvm(let arch):
            lines.append("    <type arch='\(xmlEscape(arch))'>hvm</type>")
            lines.append("    <boot dev='hd'/>")
        case .exe(let initPath):
            lines.append("    <type>exe</type>")
            lines.append("    <init>\(xmlEscape(initPath))</init>")
        }
        lines.append("  </os>")
        if case .hvm = os { lines.append("  <features><acpi/></features>") }
        lines.append("  <on_poweroff>destroy</on_poweroff>")
        lines.append("  <on_reboot>restart</on_reboot>")
        lines.append("  <on_crash>destroy</on_crash>")
        lines.append("  <devices>")
        for disk in disks {
            lines.append("    <disk type='volume' device='\(xmlEscape(disk.device))'>")
            lines.append("      <driver name='qemu' type='\(xmlEscape(disk.format))'/>")
            lines.append("      <source pool='\(xmlEscape(disk.pool))' volume='\(xmlEscape(disk.volume))'/>")
            lines.append("      <target dev='\(xmlEscape(disk.target))' bus='\(xmlEscape(disk.bus))'/>")
            if disk.readOnly { lines.append("      <readonly/>") }
            lines.append("    </disk>")
        }
        for interface in interfaces {
            lines.append("    <interface type='network'>")
            if let mac = interface.mac { lines.append("      <mac address='\(xmlEscape(mac))'/>") }
            lines.append("      <source network='\(xmlEscape(interface.network))'/>")
            lines.append("      <model type='\(xmlEscape(interface.model))'/>")
            lines.append("    </interface>")
        }
        if serialConsole {
            lines.append("    <console type='pty'/>")
        }
        lines.append("  </devices>")
        lines.append("</domain>")
        return lines.joined(separator: "\n") + "\n"
    }
}
