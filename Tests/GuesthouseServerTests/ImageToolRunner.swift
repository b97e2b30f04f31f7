import Foundation
import Testing

/// The qemu:///system suites of image imports, operations and the transfer CLI, one at a time:
/// they check that the server's scratch directories are gone, which only holds while no other of
/// them has a transfer in flight.
@Suite(.serialized) enum ImageTransferQemuSuites {}

/// Runs the independent tools the image tests check with (qemu-img, tar), argument arrays only.
enum Tool {
    /// Runs `arguments[0]` (a path, or a name looked up in /usr/bin and /bin) and returns (status, stdout + stderr).
    @discardableResult
    static func run(_ arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        let name = arguments[0]
        process.executableURL = URL(fileURLWithPath: ["/usr/bin/\(name)", "/bin/\(name)", "/usr/sbin/\(name)"]
            .first { FileManager.default.isExecutableFile(atPath: $0) } ?? name)
        process.arguments = Array(arguments.dropFirst())
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Like `run`, but a non-zero exit is an error showing the output.
    @discardableResult
    static func check(_ arguments: [String], in directory: String? = nil) throws -> String {
        let (status, output) = try run(arguments, in: directory)
        guard status == 0 else { throw ToolFailure(command: arguments.joined(separator: " "), output: output) }
        return output
    }

    struct ToolFailure: Error, CustomStringConvertible {
        var command: String
        var output: String
        var description: String { "\(command) failed: \(output)" }
    }

    /// The tiny bootable test image (raw).
    static func testImage() throws -> String {
        if let path = ProcessInfo.processInfo.environment["GUESTHOUSE_TEST_IMAGE"], FileManager.default.fileExists(atPath: path) {
            return path
        }
        return try VmangoQemuTests.imagePath()
    }
}
