import Foundation

extension HostCommand {
    /// One link as `ip -j link show` describes it (with `-d`: its kind and kind data), or nil when
    /// no link has that name.
    /// - Parameter namespace: a network namespace (`ip -n`), nil for the host's.
    func ipLink(_ name: String, namespace: String?, details: Bool = false) throws -> [String: Any]? {
        let ns = namespace.map { ["-n", $0] } ?? []
        do {
            let output = try run("ip", ns + (details ? ["-d"] : []) + ["-j", "link", "show", "dev", name])
            return (try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]])?.first
        } catch let error as HostCommandError {
            guard error.output.contains("does not exist") else { throw error }
            return nil
        }
    }
}
