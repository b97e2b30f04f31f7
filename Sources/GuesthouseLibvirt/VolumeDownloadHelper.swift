import Foundation
import Libvirt

/// Where volume downloads run: a helper process (`executable volume-download ...`) per download,
/// read through a pipe, so that a slow reader holds back libvirtd instead of filling this
/// process's memory (see `VolumeDownloadChild`). Given to the `ConnectionPool`; without one,
/// downloads run in this process.
public struct VolumeDownloadHelper: Sendable {
    /// The `guesthouse` executable.
    public let executable: String

    public init(executable: String) {
        self.executable = executable
    }

    /// The helper for the running `guesthouse` executable itself.
    public static func currentExecutable() -> VolumeDownloadHelper? {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
              FileManager.default.isExecutableFile(atPath: path) else { return nil }
        return VolumeDownloadHelper(executable: path)
    }

    /// Bytes of data up to which a volume is read in the server's process: what libvirt may queue
    /// there for one download. (A helper costs a process and a libvirt connection; under load
    /// that start took seconds.)
    public static let inProcessLimit: UInt64 = 32 << 20

    /// The subcommand the helper runs.
    public static let subcommand = "volume-download"

    /// Whether downloads from `uri` go through the helper: not for `test:` URIs, whose state lives
    /// in this process's connection only.
    func serves(uri: String) -> Bool { !uri.hasPrefix("test:") }

    /// What the helper reads on its standard input: the connection's credentials, if any.
    public struct Input: Codable, Sendable {
        public var username: String?
        public var password: String?

        public init(credentials: LibvirtCredentials?) {
            username = credentials?.username
            password = credentials?.password
        }

        public var credentials: LibvirtCredentials? {
            guard let username, let password else { return nil }
            return LibvirtCredentials(username: username, password: password)
        }
    }
}
