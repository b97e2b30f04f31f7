import Foundation
import GuesthouseCore

/// A cloud-init config drive in OpenStack's layout: an ISO 9660 image labelled `config-2` holding
/// `openstack/latest/meta_data.json` and `openstack/latest/user_data`. Built with Debian's xorriso
/// (or genisoimage), run with an argument array in a private temporary directory.
public struct ConfigDrive: Sendable {
    public var hostname: String
    public var uuid: String
    public var publicKeys: [MachineSSHKey]
    public var userdata: String

    public init(hostname: String, uuid: String, publicKeys: [MachineSSHKey], userdata: String) {
        self.hostname = hostname
        self.uuid = uuid
        self.publicKeys = publicKeys
        self.userdata = userdata
    }

    /// `meta_data.json`'s content.
    public var metadataJSON: Data {
        struct Metadata: Encodable {
            var availability_zone = "none"
            var files: [String] = []
            var hostname: String
            var launch_index = 0
            var name: String
            var meta: [String: String] = [:]
            var public_keys: [String: String]
            var uuid: String
        }
        let keys = Dictionary(publicKeys.map { ($0.name, $0.publicKey) }, uniquingKeysWith: { a, _ in a })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(Metadata(hostname: hostname, name: hostname, public_keys: keys, uuid: uuid))) ?? Data()
    }

    /// The ISO image's bytes.
    /// - Throws: `GuesthouseError.internalError` when no ISO tool is installed or it fails.
    public func isoImage() throws -> Data {
        let fm = FileManager.default
        let work = fm.temporaryDirectory.appendingPathComponent("guesthouse-configdrive-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: work) }
        let tree = work.appendingPathComponent("tree")
        let latest = tree.appendingPathComponent("openstack/latest")
        try fm.createDirectory(at: latest, withIntermediateDirectories: true,
                               attributes: [.posixPermissions: 0o700])
        try metadataJSON.write(to: latest.appendingPathComponent("meta_data.json"))
        try Data(userdata.utf8).write(to: latest.appendingPathComponent("user_data"))
        let output = work.appendingPathComponent("config.iso")
        let (tool, arguments) = try Self.isoCommand(output: output.path, tree: tree.path)
        try Self.run(tool, arguments)
        return try Data(contentsOf: output)
    }

    /// xorriso in mkisofs mode where installed, else genisoimage: Rock Ridge and Joliet names,
    /// volume label `config-2`.
    static func isoCommand(output: String, tree: String) throws -> (String, [String]) {
        let common = ["-V", "config-2", "-R", "-J", "-quiet", "-o", output, tree]
        for dir in ["/usr/bin", "/bin", "/usr/local/bin"] {
            if FileManager.default.isExecutableFile(atPath: dir + "/xorriso") {
                return (dir + "/xorriso", ["-as", "mkisofs"] + common)
            }
            if FileManager.default.isExecutableFile(atPath: dir + "/genisoimage") {
                return (dir + "/genisoimage", common)
            }
        }
        throw GuesthouseError(.internalError, "no ISO tool to build config drives: install xorriso (apt-get install xorriso)")
    }

    static func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message.prefix(500), as: UTF8.self)
            throw GuesthouseError(.internalError, "building the config drive failed: \(text)")
        }
    }
}
