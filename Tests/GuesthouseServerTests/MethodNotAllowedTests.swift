import Foundation
import GuesthouseServer
import Testing

/// A path the server has, asked with a method it lacks: 405 with `Allow`, in the API's error shape.
@Suite struct MethodNotAllowedTests {
    @Test func aSimplestackPathAnswers405WithItsMethods() async throws {
        try await TestServer().run { client in
            let r = try await client.call(.delete, "/test/localhost/guests")
            #expect(r.status == .methodNotAllowed)
            #expect(r.headers[.allow] == "GET, POST")
            #expect(object(r.json)["error"] as? String == "MethodNotAllowed")
            #expect((object(r.json)["message"] as? String)?.contains("not DELETE") == true, "\(r.text)")
            #expect(r.headers[.contentType] == "application/json")

            let power = try await client.call(.get, "/test/localhost/guests/some-guest/power")
            #expect(power.status == .methodNotAllowed && power.headers[.allow] == "PUT")
        }
    }

    @Test func aVmangoPathAnswers405InVmangosShape() async throws {
        try await TestServer().run { client in
            let r = try await client.call(.patch, "/api/machines/")
            #expect(r.status == .methodNotAllowed)
            #expect(r.headers[.allow] == "GET, POST")
            #expect(object(r.json).keys.sorted() == ["Error"], "\(r.text)")
            // The constant path wins over the Simplestack shape /{hypervisor}/{host} it also fits.
            let images = try await client.call(.delete, "/api/images/")
            #expect(images.status == .methodNotAllowed && images.headers[.allow] == "GET, POST", "\(images.text)")
        }
    }

    @Test func anUnknownPathIsStillA404() async throws {
        try await TestServer().run { client in
            let r = try await client.call(.get, "/no/such/path/at/all/here")
            #expect(r.status == .notFound)
            #expect(object(r.json)["error"] as? String == "EntityNotFound")
            #expect(r.headers[.allow] == nil)
        }
    }

    /// Every path of the document, asked with a method it does not list, answers 405 naming exactly
    /// the methods the document lists: the 405s and the document come from one table.
    @Test func everyDocumentedPathAnswers405ForEveryOtherMethod() async throws {
        try await TestServer().run { client in
            let doc = try await client.call(.get, "/openapi.json", headers: [:])
            let paths = try #require(object(doc.json)["paths"] as? [String: [String: Any]])
            #expect(paths.count > 20)
            for (template, operations) in paths {
                let documented = Set(operations.keys.map { $0.uppercased() })
                let path = template.split(separator: "/", omittingEmptySubsequences: false).map { part in
                    part.hasPrefix("{") ? "x" : String(part)
                }.joined(separator: "/")
                for method in ["GET", "PUT", "POST", "DELETE", "PATCH"] where !documented.contains(method) {
                    let r = try await client.call(.init(method)!, path, headers: [:])
                    #expect(r.status == .methodNotAllowed, "\(method) \(path): \(r.status)")
                    let allow = Set((r.headers[.allow] ?? "").split(separator: ",").map {
                        $0.trimmingCharacters(in: .whitespaces)
                    })
                    #expect(allow == documented, "\(method) \(path): Allow \(r.headers[.allow] ?? "-")")
                }
            }
        }
    }
}
