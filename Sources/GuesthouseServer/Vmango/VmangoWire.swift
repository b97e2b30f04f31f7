import GuesthouseCore

/// `GET /api/machines/`: machines by provider; a provider that could not be read shows its error
/// under `Errors` and an empty list, the others as usual.
struct MachineListResponse: Encodable {
    var Title = "Machines"
    var Machines: [String: [Machine]]
    var Errors: [String: String]?
}

/// `GET /api/machines/{provider}/{id}/`
struct MachineDetailResponse: Encodable {
    var Provider: String
    var Title: String
    var Machine: Machine
}

/// `GET /api/images/`
struct ImageListResponse: Encodable {
    var Title = "Images"
    var Images: [String: [MachineImage]]
    var Errors: [String: String]?
}

/// `{"Message": ...}`
struct MessageResponse: Encodable {
    var Message: String
}

enum VmangoSchemas {
    static let machine: Schema = .object([
        "Id": .string(description: "the domain's UUID, 32 hex digits"), "Name": .string(), "Plan": .string(),
        "Creator": .string(), "OS": .string(), "Arch": .string(), "Memory": .integer(description: "bytes"),
        "Cpus": .integer(), "ImageId": .string(), "HWAddr": .string(), "VNCAddr": .string(),
        "State": .string(enumeration: ["running", "stopped", "paused", "unknown"]),
        "Ip": .object(["Address": .string(), "Gateway": .string(), "Netmask": .integer(description: "prefix length"),
                       "UsedBy": .string()]),
        "RootDisk": .nullable(.object(["Size": .integer(description: "bytes"), "Driver": .string(), "Type": .string()])),
        "SSHKeys": .array(.object(["Name": .string(), "Public": .string()])),
    ])

    static let image: Schema = .object([
        "Id": .string(description: "the volume name, {OS}-{Version}_{arch}_{format}.img"), "OS": .string(),
        "Arch": .string(), "Size": .integer(description: "bytes"),
        "Type": .integer(description: "0 raw, 1 qcow2"), "Date": .string(description: "RFC 3339"),
        "PoolName": .string(),
    ])

    static let create: Schema = .object([
        "Name": .string(description: "host name of the machine"), "Plan": .string(), "Image": .string(),
        "SSHKey": .array(.string(description: "a configured key's name; the form field repeats")),
        "Provider": .string(), "Userdata": .string(description: "cloud-init user data"),
    ], required: ["Name", "Plan", "Image", "Provider"])

    static let message: Schema = .object(["Message": .string()], required: ["Message"])

    static let machineList: Schema = .object([
        "Title": .string(), "Machines": .object([:]),
        "Errors": .object([:]),
    ])
    static let imageList: Schema = .object(["Title": .string(), "Images": .object([:]), "Errors": .object([:])])
    static let machineDetail: Schema = .object(["Provider": .string(), "Title": .string(), "Machine": .ref("Machine")])
}
