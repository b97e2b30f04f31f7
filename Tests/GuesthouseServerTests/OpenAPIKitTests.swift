import Foundation
import GuesthouseServer
import OpenAPIKit30
import Testing

/// The served document read and validated by OpenAPIKit (the library swift-openapi-generator
/// builds on), strictly: warnings fail too.
@Suite struct OpenAPIKitTests {
    @Test func theServedDocumentIsValidOpenAPI() async throws {
        try await TestServer().run { client in
            let r = try await client.call(.get, "/openapi.json", headers: [:])
            let document = try JSONDecoder().decode(OpenAPI.Document.self, from: Data(r.text.utf8))
            let warnings = try document.validate(strict: true)
            #expect(warnings.isEmpty, "\(warnings)")
            #expect(document.paths.count > 20)

            // A body the route also takes none of is optional (reboot, snapshot), others required.
            let reboot = document.paths["/{hypervisor}/{host}/guests/{guest_id}/reboot"]?.pathItemValue?.put
            #expect(reboot?.requestBody?.requestValue?.required == false)
            let create = document.paths["/{hypervisor}/{host}/guests"]?.pathItemValue?.post
            #expect(create?.requestBody?.requestValue?.required == true)

            // Every operation documents its errors with a body: 401 where credentials are needed,
            // each error status with a JSON schema of its API's error shape.
            for (path, item) in document.paths {
                guard let item = item.pathItemValue else { continue }
                for endpoint in item.endpoints {
                    let name = "\(endpoint.method.rawValue) \(path.rawValue)"
                    let needsCredentials = endpoint.operation.security?.isEmpty == false
                    if needsCredentials {
                        #expect(endpoint.operation.responses[status: 401] != nil, "\(name) lacks 401")
                    }
                    for (status, response) in endpoint.operation.responses {
                        guard case .status(let code) = status.value, code >= 400 else { continue }
                        var reference: String?
                        if case .a(let ref) = response.responseValue?.content[.json]?.schema { reference = ref.name }
                        #expect(["Error", "VmangoError", "ContainerError"].contains(reference ?? ""),
                                "\(name) \(code): \(String(describing: reference))")
                    }
                }
            }
        }
    }
}
