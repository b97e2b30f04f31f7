import Foundation
import GuesthouseCore
import Hummingbird

extension WebRoutes {
    /// How many audit entries a page shows.
    static let auditPageSize = 50

    /// `GET /audit/?user=&offset=`: the audit log, oldest first, paged and filtered by user; for
    /// admins only (members get a 403 page). Every value is HTML-escaped by the template.
    func auditPage(_ session: WebSession, _ request: Request) async throws -> Response {
        try authenticator.principal(session.user).requireAdmin("the audit log")
        guard let audit, audit.hasFile else { throw GuesthouseError.notFound("no [server] audit_log is configured") }
        let query = request.uri.queryParameters
        let user = query.get("user").flatMap { $0.isEmpty ? nil : $0 }
        guard let offset = Int(query.get("offset") ?? "0"), offset >= 0 else {
            throw GuesthouseError.invalid("offset must be a non-negative integer")
        }
        let (entries, next) = try await audit.read(since: nil, user: user, offset: offset, limit: Self.auditPageSize)
        func link(_ offset: Int) -> String {
            var items = [URLQueryItem(name: "offset", value: String(offset))]
            if let user { items.insert(URLQueryItem(name: "user", value: user), at: 0) }
            var components = URLComponents()
            components.path = "/audit/"
            components.queryItems = items
            return components.string ?? "/audit/"
        }
        var context: [String: Any] = [
            "user": user ?? "",
            "entries": entries.map { entry -> [String: Any] in
                var row = Self.dictionary(entry)
                row["target"] = entry.target.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                return row
            },
        ]
        if let next { context["next"] = link(next) }
        if offset > 0 { context["previous"] = link(max(0, offset - Self.auditPageSize)) }
        return html(WebPage(title: "Audit log", body: WebTemplates.render("audit", context), session: session))
    }

    /// The session user's quota and use, shown beside the create form; nil without a quota.
    func quotaText(_ session: WebSession) async -> String? {
        guard let quota = authenticator.principal(session.user).quota,
              let owned = providers as? OwnedMachineProviders,
              let used = try? await owned.quotas.usage(of: session.user) else { return nil }
        let parts = [("machines", quota.machines, used.machines, ""), ("cpus", quota.cpus, used.cpus, ""),
                     ("memory", quota.memoryMiB, used.memoryMiB, " MiB"), ("disk", quota.diskGiB, used.diskGiB, " GiB")]
            .compactMap { name, limit, current, unit in limit.map { "\(name) \(current) of \($0)\(unit)" } }
        return parts.isEmpty ? nil : "Your quota: " + parts.joined(separator: ", ")
    }
}
