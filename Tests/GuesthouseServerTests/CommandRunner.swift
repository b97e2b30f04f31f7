import Foundation

/// Runs a program to its end and returns its exit status with stdout and stderr, for tests that
/// check the `guesthouse` executable or an independent tool (openssl, curl).
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String

    /// The `guesthouse` executable built beside the test bundle.
    static var guesthouse: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("guesthouse").path
    }

    /// Runs `program` (a path, or a name looked up in /usr/bin) with `arguments`.
    static func run(_ program: String, _ arguments: [String]) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program.hasPrefix("/") ? program : "/usr/bin/\(program)")
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes at once so neither fills up and blocks the child.
        let errData = DataBox()
        let errDone = DispatchSemaphore(value: 0)
        let errHandle = err.fileHandleForReading
        DispatchQueue.global().async {
            errData.data = errHandle.readDataToEndOfFile()
            errDone.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errDone.wait()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData.data, as: UTF8.self))
    }
}

/// Bytes handed from the reading queue to the caller (ordered by the semaphore).
private final class DataBox: @unchecked Sendable {
    var data = Data()
}
