import Foundation
import GuesthouseServer
import Testing

/// The document and the router agree: every documented operation reaches a handler (an answer that
/// is not the router's own "no route" 404 or a 405), asked without credentials so nothing changes.
@Suite struct RouteTableTests {
    @Test func everyDocumentedOperationHasAHandler() async throws {
        try await TestServer().run { client in
            let doc = try await client.call(.get, "/openapi.json", headers: [:])
            let paths = try #require(object(doc.json)["paths"] as? [String: [String: Any]])
            var checked = 0
            for (template, operations) in paths {
                // A family and host the server has (an unknown family is a 404 before credentials).
                let values = ["{hypervisor}": "test", "{host}": "localhost"]
                let path = template.split(separator: "/", omittingEmptySubsequences: false).map { part in
                    part.hasPrefix("{") ? values[String(part)] ?? "x" : String(part)
                }.joined(separator: "/")
                for (method, operation) in operations {
                    let r = try await client.call(.init(method.uppercased())!, path, headers: [:])
                    let message = (object(r.json)["message"] ?? object(r.json)["Error"]) as? String ?? ""
                    #expect(r.status != .methodNotAllowed && !message.hasPrefix("no route for"),
                            "\(method.uppercased()) \(path) has no handler: \(r.status) \(r.text)")
                    let open = ((operation as? [String: Any])?["security"] as? [Any])?.isEmpty == true
                    if !open {
                        #expect(r.status == .unauthorized, "\(method.uppercased()) \(path) answered \(r.status) without credentials")
                    }
                    checked += 1
                }
            }
            #expect(checked > 25)
        }
    }
}
