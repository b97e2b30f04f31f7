import Foundation

/// One command a user asks for by writing a file named after it under `~/wirt/service/vm/<vm>/`.
public enum WirtCommand: Sendable, Equatable {
    case start
    /// Graceful shutdown (ACPI).
    case stop
    /// Immediate power off.
    case destroy
    case autostart(Bool)
    /// New settings for the persistent definition.
    case config(memoryMiB: Int?, cpus: Int?)

    /// The file names that are commands.
    public static let names: Set<String> = ["start", "stop", "destroy", "autostart", "config"]

    /// The command's file name.
    public var name: String {
        switch self {
        case .start: "start"
        case .stop: "stop"
        case .destroy: "destroy"
        case .autostart: "autostart"
        case .config: "config"
        }
    }

    /// Parses a command file.
    /// - Throws: `WirtRefusal` naming what is wrong with the name or the content.
    public static func parse(name: String, content: [UInt8], maxMemoryMiB: Int, maxCpus: Int) throws -> WirtCommand {
        guard names.contains(name) else { throw WirtRefusal("unknown command") }
        guard let text = String(validating: content, as: UTF8.self) else { throw WirtRefusal("content is not UTF-8") }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        switch name {
        case "start", "stop", "destroy":
            guard trimmed.isEmpty else { throw WirtRefusal("\(name) takes no content") }
            return name == "start" ? .start : name == "stop" ? .stop : .destroy
        case "autostart":
            switch trimmed {
            case "", "--enable": return .autostart(true)
            case "--disable": return .autostart(false)
            default: throw WirtRefusal("autostart takes no content or --disable")
            }
        default:
            return try parseConfig(trimmed, maxMemoryMiB: maxMemoryMiB, maxCpus: maxCpus)
        }
    }

    private struct ConfigBody: Decodable {
        var memory: Int?
        var cpus: Int?
    }

    private static func parseConfig(_ text: String, maxMemoryMiB: Int, maxCpus: Int) throws -> WirtCommand {
        let data = Data(text.utf8)
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw WirtRefusal("config must be a JSON object like {\"memory\": 1024, \"cpus\": 2}")
        }
        let unknown = Set(object.keys).subtracting(["memory", "cpus"])
        guard unknown.isEmpty else { throw WirtRefusal("config: unknown key \(unknown.sorted().joined(separator: ", "))") }
        guard let body = try? JSONDecoder().decode(ConfigBody.self, from: data) else {
            throw WirtRefusal("config: memory and cpus must be integers")
        }
        guard body.memory != nil || body.cpus != nil else { throw WirtRefusal("config: set memory and/or cpus") }
        if let m = body.memory, !(16...maxMemoryMiB).contains(m) {
            throw WirtRefusal("config: memory must be 16-\(maxMemoryMiB) MiB")
        }
        if let c = body.cpus, !(1...maxCpus).contains(c) {
            throw WirtRefusal("config: cpus must be 1-\(maxCpus)")
        }
        return .config(memoryMiB: body.memory, cpus: body.cpus)
    }

    /// Whether `vm` is a valid VM name: 1-32 of `[A-Za-z0-9_]`, starting with a letter or digit.
    /// No `-`, so the domain `<user>-<vm>` names exactly one (user, vm) pair, and no `.` or `/`.
    public static func isValidVMName(_ vm: String) -> Bool {
        let bytes = Array(vm.utf8)
        guard !bytes.isEmpty, bytes.count <= 32, bytes[0] != UInt8(ascii: "_") else { return false }
        return bytes.allSatisfy(isVMNameByte)
    }

    static func isVMNameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    /// Whether `user` is a user name the spool serves: 1-32 of `[a-z0-9_.-]`, starting with a letter or `_`.
    public static func isValidUserName(_ user: String) -> Bool {
        let bytes = Array(user.utf8)
        guard let first = bytes.first, bytes.count <= 32 else { return false }
        let firstOK = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) || first == UInt8(ascii: "_")
        guard firstOK else { return false }
        return bytes.allSatisfy(isUserNameByte)
    }

    static func isUserNameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }
}
