import ArgumentParser
import Foundation
import GuesthouseLibvirt

/// `guesthouse volume-download`: the server's helper for one volume download (not for people).
/// Reads the connection's credentials as JSON on stdin and writes the volume as frames to stdout.
struct VolumeDownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: VolumeDownloadHelper.subcommand,
        abstract: "Stream a storage volume to stdout as frames (run by the server for exports).",
        shouldDisplay: false)

    @Option(help: "The libvirt URI.")
    var uri: String

    @Option(help: "The storage pool.")
    var pool: String

    @Option(help: "The volume.")
    var volume: String

    func run() throws {
        let input = FileHandle.standardInput.readDataToEndOfFile()
        let credentials = input.isEmpty ? nil : try JSONDecoder().decode(VolumeDownloadHelper.Input.self, from: input).credentials
        let status = VolumeDownloadChild.run(uri: uri, credentials: credentials, pool: pool, volume: volume,
                                             output: FileHandle.standardOutput.fileDescriptor)
        if status != 0 { throw ExitCode(status) }
    }
}
