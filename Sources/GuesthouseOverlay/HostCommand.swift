import Foundation
import GuesthouseCore

/// Runs a host program with an argument array (never through a shell) and returns what it printed.
/// Blocking: call it from a thread pool, never from Swift's cooperative pool.
public struct HostCommand: Sendable {
    /// Where programs are looked for.
    static let searchPath = ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"]

    public init() {}

    /// Runs `program` (a name looked up in the system directories, or an absolute path).
    /// - Returns: its standard output.
    /// - Throws: `HostCommandError` when it cannot start or exits non-zero (with its standard error).
    @discardableResult
    public func run(_ program: String, _ arguments: [String]) throws -> String {
        let path = try Self.locate(program)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ["PATH": Self.searchPath.joined(separator: ":"), "LC_ALL": "C"]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw HostCommandError(command: [program] + arguments, status: -1, output: "\(error)")
        }
        // Standard error is drained on another thread so a chatty program cannot block on a full pipe.
        let errorData = Locked<Data>(Data())
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            let data = err.fileHandleForReading.readDataToEndOfFile()
            errorData.withLock { $0 = data }
            drained.signal()
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        drained.wait()
        let stdout = String(decoding: output, as: UTF8.self)
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let stderr = errorData.withLock { String(decoding: $0, as: UTF8.self) }
            throw HostCommandError(command: [program] + arguments, status: process.terminationStatus,
                                   output: stderr.isEmpty ? stdout : stderr)
        }
        return stdout
    }

    static func locate(_ program: String) throws -> String {
        if program.hasPrefix("/") { return program }
        for directory in searchPath where FileManager.default.isExecutableFile(atPath: "\(directory)/\(program)") {
            return "\(directory)/\(program)"
        }
        throw HostCommandError(command: [program], status: -1, output: "\(program) not found (install iproute2)")
    }
}

/// A host program that failed: the command, its exit status and what it said.
public struct HostCommandError: Error, Sendable, CustomStringConvertible {
    public var command: [String]
    public var status: Int32
    public var output: String
    public var description: String {
        "\(command.joined(separator: " ")) failed (\(status)): \(output.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
}
