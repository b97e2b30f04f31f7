import Foundation
import GuesthouseServer
import Testing

@Suite struct OpenAPITests {
    @Test func theDocumentIsServedAndDescribesEveryRoute() async throws {
        try await TestServer().run { client in
            let r = try await client.call(.get, "/openapi.json", headers: [:])
            #expect(r.status == .ok)
            let document = object(r.json)
            #expect(document["openapi"] as? String == "3.0.3")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            let expected: [(String, String)] = [
                ("get", "/healthz"), ("get", "/{hypervisor}/{host}"), ("get", "/{hypervisor}/{host}/hosts"),
                ("get", "/{hypervisor}/{host}/hosts/{host_id}"), ("get", "/{hypervisor}/{host}/storages"),
                ("get", "/{hypervisor}/{host}/storages/{storage_id}"), ("get", "/{hypervisor}/{host}/guests"),
                ("post", "/{hypervisor}/{host}/guests"), ("get", "/{hypervisor}/{host}/guests/{guest_id}"),
                ("put", "/{hypervisor}/{host}/guests/{guest_id}"), ("delete", "/{hypervisor}/{host}/guests/{guest_id}"),
                ("put", "/{hypervisor}/{host}/guests/{guest_id}/power"),
                ("put", "/{hypervisor}/{host}/guests/{guest_id}/reboot"),
                ("get", "/api/machines/"), ("post", "/api/machines/"), ("get", "/api/machines/{provider}/{id}/"),
                ("delete", "/api/machines/{provider}/{id}/"), ("post", "/api/machines/{provider}/{id}/start/"),
                ("post", "/api/machines/{provider}/{id}/stop/"), ("post", "/api/machines/{provider}/{id}/reboot/"),
                ("get", "/api/images/"), ("get", "/{hypervisor}/{host}/events"), ("get", "/metrics"),
            ]
            for (method, path) in expected {
                let operation = paths[path]?[method] as? [String: Any]
                #expect(operation != nil, "\(method.uppercased()) \(path) is missing from the document")
                #expect((operation?["responses"] as? [String: Any])?.isEmpty == false)
            }
            let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any]
            #expect(schemas?["Guest"] != nil && schemas?["Error"] != nil)
            #expect(schemas?["Machine"] != nil && schemas?["Image"] != nil)
            // The event stream: its media type and its filters.
            let events = paths["/{hypervisor}/{host}/events"]?["get"] as? [String: Any]
            let streamed = (events?["responses"] as? [String: Any])?["200"] as? [String: Any]
            #expect((streamed?["content"] as? [String: Any])?["text/event-stream"] != nil)
            let query = (events?["parameters"] as? [[String: Any]] ?? []).filter { $0["in"] as? String == "query" }
            #expect(Set(query.compactMap { $0["name"] as? String }) == ["type", "guest"])
            // vmango's routes answer errors in vmango's shape.
            let machineErrors = (paths["/api/machines/"]?["post"] as? [String: Any])?["responses"] as? [String: Any]
            let badRequest = String(describing: machineErrors?["400"] ?? "")
            #expect(badRequest.contains("VmangoError"))
        }
    }
}
