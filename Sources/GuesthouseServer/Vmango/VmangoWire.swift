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

    /// The create body as `MachineForm` reads it: the configured plans, keys and providers by name.
    static func create(plans: [String], sshKeys: [String], providers: [String]) -> Schema {
        func oneOf(_ names: [String], _ description: String) -> Schema {
            names.isEmpty ? .text(description: description, length: 1...Int.max, pattern: "\\S")
                : .string(description: description, enumeration: names.sorted())
        }
        // An empty key name is skipped, as a form's empty select sends it.
        let key = Schema.string(description: "a configured key's name", enumeration: [""] + sshKeys.sorted())
        return .object([
            "Name": .name(description: "host name of the machine"), "Plan": oneOf(plans, "a configured plan"),
            "Image": .text(description: "an image's Id (404 when the provider has none of that name)",
                           length: 1...Int.max, pattern: "\\S"),
            "SSHKey": .nullable(.anyOf([key, .array(key)])), "Provider": oneOf(providers, "a configured provider"),
            "Userdata": .nullable(.string(description: "cloud-init user data")),
        ], required: ["Name", "Plan", "Image", "Provider"])
    }

    static let message: Schema = .object(["Message": .string()], required: ["Message"])

    static let machineList: Schema = .object([
        "Title": .string(), "Machines": .object([:]),
        "Errors": .object([:]),
    ])
    static let imageList: Schema = .object(["Title": .string(), "Images": .object([:]), "Errors": .object([:])])
    static let machineDetail: Schema = .object(["Provider": .string(), "Title": .string(), "Machine": .ref("Machine")])
}
