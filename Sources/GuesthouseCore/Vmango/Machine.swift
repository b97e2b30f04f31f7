/// A vmango machine as the `/api/machines/` routes show it. The JSON keys are vmango's own.
public struct Machine: Sendable, Equatable, Codable {
    /// The domain's UUID as 32 hex digits, no dashes.
    public var id: String
    public var name: String
    public var plan: String
    /// The server user who created it.
    public var creator: String
    /// e.g. "Debian-12".
    public var os: String
    /// e.g. "x86_64".
    public var arch: String
    /// Bytes.
    public var memory: UInt64
    public var cpus: Int
    /// The image volume it was made from, e.g. "Debian-12_amd64_qcow2.img".
    public var imageID: String
    public var ip: MachineAddress
    public var hwAddr: String
    /// "host:port" of a running machine's VNC display, "" otherwise.
    public var vncAddr: String
    public var rootDisk: MachineDisk?
    public var sshKeys: [MachineSSHKey]
    /// "running", "stopped" or "paused" (vmango's states, see `Machine.state(_:)`).
    public var state: String
    /// The user data given at creation: kept in the metadata, not shown by the JSON API.
    public var userdata: String = ""
    /// The capacity of all its disks in bytes, the root disk and any added later (what a disk quota
    /// counts): not shown by the JSON API, whose `RootDisk` is vmango's.
    public var diskBytes: UInt64 = 0

    enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", plan = "Plan", creator = "Creator", os = "OS", arch = "Arch"
        case memory = "Memory", cpus = "Cpus", imageID = "ImageId", ip = "Ip", hwAddr = "HWAddr"
        case vncAddr = "VNCAddr", rootDisk = "RootDisk", sshKeys = "SSHKeys", state = "State"
    }

    public init(id: String, name: String, plan: String = "", creator: String = "", os: String = "", arch: String = "",
                memory: UInt64 = 0, cpus: Int = 0, imageID: String = "", ip: MachineAddress = .init(),
                hwAddr: String = "", vncAddr: String = "", rootDisk: MachineDisk? = nil,
                sshKeys: [MachineSSHKey] = [], state: String = "unknown", userdata: String = "") {
        self.id = id
        self.name = name
        self.plan = plan
        self.creator = creator
        self.os = os
        self.arch = arch
        self.memory = memory
        self.cpus = cpus
        self.imageID = imageID
        self.ip = ip
        self.hwAddr = hwAddr
        self.vncAddr = vncAddr
        self.rootDisk = rootDisk
        self.sshKeys = sshKeys
        self.state = state
        self.userdata = userdata
    }
}

/// A machine's fixed address, from its network's DHCP host entry.
public struct MachineAddress: Sendable, Equatable, Codable {
    public var address: String
    public var gateway: String
    /// The prefix length, e.g. 24 (vmango's field name).
    public var netmask: Int
    public var usedBy: String

    enum CodingKeys: String, CodingKey {
        case address = "Address", gateway = "Gateway", netmask = "Netmask", usedBy = "UsedBy"
    }

    public init(address: String = "", gateway: String = "", netmask: Int = 0, usedBy: String = "") {
        self.address = address
        self.gateway = gateway
        self.netmask = netmask
        self.usedBy = usedBy
    }
}

/// A machine's root disk.
public struct MachineDisk: Sendable, Equatable, Codable {
    /// Capacity in bytes.
    public var size: UInt64
    /// The driver, e.g. "qemu".
    public var driver: String
    /// The format, e.g. "qcow2".
    public var type: String

    enum CodingKeys: String, CodingKey { case size = "Size", driver = "Driver", type = "Type" }

    public init(size: UInt64, driver: String, type: String) {
        self.size = size
        self.driver = driver
        self.type = type
    }
}

/// A named public SSH key.
public struct MachineSSHKey: Sendable, Equatable, Codable {
    public var name: String
    public var publicKey: String

    enum CodingKeys: String, CodingKey { case name = "Name", publicKey = "Public" }

    public init(name: String, publicKey: String) {
        self.name = name
        self.publicKey = publicKey
    }
}

/// What `POST /api/machines/` asks for, already checked against the configuration.
public struct MachineRequest: Sendable, Equatable {
    public var name: String
    public var plan: MachinePlan
    /// The image volume's name.
    public var image: String
    public var sshKeys: [MachineSSHKey]
    public var userdata: String
    /// The authenticated user.
    public var creator: String

    public init(name: String, plan: MachinePlan, image: String, sshKeys: [MachineSSHKey], userdata: String,
                creator: String) {
        self.name = name
        self.plan = plan
        self.image = image
        self.sshKeys = sshKeys
        self.userdata = userdata
        self.creator = creator
    }
}

/// A plan: the size of a machine.
public struct MachinePlan: Sendable, Equatable {
    public var name: String
    public var memoryMiB: Int
    public var cpus: Int
    public var diskSizeGiB: Int

    public init(name: String, memoryMiB: Int, cpus: Int, diskSizeGiB: Int) {
        self.name = name
        self.memoryMiB = memoryMiB
        self.cpus = cpus
        self.diskSizeGiB = diskSizeGiB
    }

    public var memoryBytes: UInt64 { UInt64(memoryMiB) * 1_048_576 }
    public var diskBytes: UInt64 { UInt64(diskSizeGiB) * 1_073_741_824 }
}

extension Machine {
    /// vmango's word for a power state (the one `GuestState` every API derives from).
    public static func state(_ state: GuestState) -> String {
        switch state {
        case .started: "running"
        case .stopped: "stopped"
        case .paused: "paused"
        }
    }
}
