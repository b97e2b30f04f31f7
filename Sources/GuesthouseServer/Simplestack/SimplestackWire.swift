import GuesthouseCore

/// Simplestack's guest object: `{id, name, cpus, memory, hdd, paravirtualized, tools_up_to_date, ip, state, host}`.
/// `hdd` and `ip` are null when unknown, never missing.
struct SimplestackGuest: Encodable {
    var guest: Guest
    var host: String

    enum Keys: String, CodingKey {
        case id, name, cpus, memory, hdd, paravirtualized, tools_up_to_date, ip, state, host, type
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(guest.id, forKey: .id)
        try c.encode(guest.name, forKey: .name)
        try c.encode(guest.cpus, forKey: .cpus)
        try c.encode(guest.memoryMiB, forKey: .memory)
        if let hdd = guest.hddGiB { try c.encode((hdd * 100).rounded() / 100, forKey: .hdd) } else { try c.encodeNil(forKey: .hdd) }
        try c.encode(guest.paravirtualized, forKey: .paravirtualized)
        try c.encodeNil(forKey: .tools_up_to_date)
        if let ip = guest.ip { try c.encode(ip, forKey: .ip) } else { try c.encodeNil(forKey: .ip) }
        try c.encode(guest.state.rawValue, forKey: .state)
        try c.encode(host, forKey: .host)
        try c.encode(guest.domainType, forKey: .type)
    }

    static let schema = Schema.object([
        "id": .string(description: "the guest's UUID"), "name": .string(), "cpus": .integer(),
        "memory": .integer(description: "MiB"), "hdd": .nullable(.number(description: "GiB of the last disk")),
        "paravirtualized": .boolean(), "tools_up_to_date": .nullable(.boolean()),
        "ip": .nullable(.string()), "state": .string(enumeration: ["STARTED", "STOPPED", "PAUSED"]),
        "host": .string(), "type": .string(description: "libvirt domain type"),
    ], required: ["id", "name", "cpus", "memory", "hdd", "paravirtualized", "ip", "state", "host"])
}

/// `{used_memory, total_memory, uuid, master, software_info: {version, ...}}`
struct SimplestackPool: Encodable {
    struct Software: Encodable {
        var version: String
        var libvirt: String
        var hypervisor: String
    }
    var used_memory: Int
    var total_memory: Int
    var uuid: String
    var master: String
    var software_info: Software

    init(_ pool: PoolInfo) {
        used_memory = pool.usedMemoryMiB
        total_memory = pool.totalMemoryMiB
        uuid = pool.uuid
        master = pool.master
        software_info = Software(version: pool.hypervisorVersion ?? pool.libvirtVersion, libvirt: pool.libvirtVersion,
                                 hypervisor: pool.hypervisorType)
    }

    static let schema = Schema.object([
        "used_memory": .integer(description: "MiB"), "total_memory": .integer(description: "MiB"),
        "uuid": .string(), "master": .string(),
        "software_info": .object(["version": .string(), "libvirt": .string(), "hypervisor": .string()],
                                 required: ["version"]),
    ], required: ["used_memory", "total_memory", "uuid", "master", "software_info"])
}

/// `{id, name, address}`
struct SimplestackHost: Encodable {
    var id: String
    var name: String
    var address: String
    var cpus: Int
    var memory: Int

    init(_ host: HostInfo) {
        id = host.id
        name = host.name
        address = host.address
        cpus = host.cpus
        memory = host.memoryMiB
    }

    static let schema = Schema.object([
        "id": .string(), "name": .string(), "address": .string(), "cpus": .integer(), "memory": .integer(description: "MiB"),
    ], required: ["id", "name", "address"])
}

/// `{id, name, type, used_space, allocated_space, size}`, sizes in bytes.
struct SimplestackStorage: Encodable {
    var id: String
    var name: String
    var type: String
    var used_space: UInt64
    var allocated_space: UInt64
    var size: UInt64

    init(_ storage: Storage) {
        id = storage.id
        name = storage.name
        type = storage.type
        used_space = storage.usedSpace
        allocated_space = storage.allocatedSpace
        size = storage.size
    }

    static let schema = Schema.object([
        "id": .string(), "name": .string(), "type": .string(), "used_space": .integer(description: "bytes"),
        "allocated_space": .integer(description: "bytes"), "size": .integer(description: "bytes"),
    ], required: ["id", "name", "type", "used_space", "allocated_space", "size"])
}

/// `{"action": ..., "message": "ok"}`
struct SimplestackAction: Encodable {
    var action: String
    var message = "ok"

    static let schema = Schema.object(["action": .string(), "message": .string()], required: ["action", "message"])
}
