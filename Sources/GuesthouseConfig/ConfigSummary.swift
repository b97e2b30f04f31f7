/// What a valid configuration would serve, as `guesthouse config check` prints it.
public enum ConfigSummary {
    /// One line per part: listen address and scheme, providers, families, users, web UI, wirt,
    /// containers and overlay.
    /// - Parameter families: the Simplestack family names a path may use (built-in and configured).
    public static func lines(_ config: Config, file: String, families: [String]) -> [String] {
        let server = config.server
        let scheme = server.usesTLS ? "https" : "http"
        let host = server.host.contains(":") ? "[\(server.host)]" : server.host
        var lines = ["\(file): ok"]
        lines.append("listen:     \(scheme)://\(host):\(server.port)")
        if let cert = server.tlsCertificatePath, let key = server.tlsKeyPath {
            lines.append("tls:        on (certificate \(cert), key \(key))")
        } else {
            lines.append("tls:        off (set [server] ssl_cert and ssl_key for HTTPS)")
        }
        let providers = config.hypervisors.keys.sorted().map { "\($0) (\(config.hypervisors[$0]!.url))" }
        lines.append("providers:  " + (providers.isEmpty ? "none (vmango API and web UI list no machines)"
                                                          : providers.joined(separator: ", ")))
        lines.append("families:   " + families.sorted().joined(separator: ", "))
        lines.append("simplestack hosts: " + config.simplestack.hosts.joined(separator: ", "))
        let members = config.users.values.filter { $0.role == .member }.count
        let quotas = config.users.values.filter { $0.quota != nil }.count
        let detail = [members > 0 ? "\(members) member\(members == 1 ? "" : "s")" : nil,
                      quotas > 0 ? "\(quotas) with a quota" : nil].compactMap { $0 }
        lines.append("users:      \(config.users.count)" + (config.users.isEmpty
            ? " (every authenticated route answers 401: add [user.NAME] password = `guesthouse genpw PASSWORD`)"
            : detail.isEmpty ? "" : " (\(detail.joined(separator: ", ")))"))
        lines.append("api tokens: " + (server.tokenSecret == nil ? "off (no [server] token_secret)"
            : "on (\(server.revokedTokens.count) revoked)"))
        lines.append("web UI:     " + (server.sessionSecret == nil ? "off (no [server] session_secret)" : "on"))
        if let wirt = config.wirt {
            lines.append("wirt:       on (group \(wirt.group), provider \(wirt.provider ?? "the only one"))")
        } else {
            lines.append("wirt:       off")
        }
        if let containers = config.containers {
            lines.append("containers: on (\(containers.uri), VNIs \(containers.vnis.map(String.init).joined(separator: ", ")))")
        } else {
            lines.append("containers: off")
        }
        if let overlay = config.overlay, let underlay = overlay.underlay {
            lines.append("overlay:    server \(overlay.serverID) over \(underlay)")
        } else {
            lines.append("overlay:    off")
        }
        return lines
    }
}
