import Foundation
import GuesthouseConfig
import GuesthouseCore
import Hummingbird
import HummingbirdTesting
import NIOCore
@testable import GuesthouseServer
import OpenAPIKit30
import Testing

/// The document's request schemas carry the server's own validation: the same constants, and
/// requests at the edges are taken or refused as the document says.
@Suite struct OpenAPISchemaTests {
    /// The served document, read by OpenAPIKit.
    static func document(_ client: any TestClientProtocol) async throws -> OpenAPI.Document {
        let r = try await client.call(.get, "/openapi.json", headers: [:])
        return try JSONDecoder().decode(OpenAPI.Document.self, from: Data(r.text.utf8))
    }

    static func bodySchema(_ document: OpenAPI.Document, _ path: String, _ method: OpenAPI.BuiltinHttpMethod) -> JSONSchema? {
        guard case .b(let schema)? = document.paths[OpenAPI.Path(rawValue: path)]?.pathItemValue?.for(method)?
            .requestBody?.requestValue?.content[.json]?.schema else { return nil }
        return schema
    }

    @Test func guestCreateCarriesTheValidationConstants() async throws {
        try await TestServer().run { client in
            let document = try await Self.document(client)
            let schema = try #require(Self.bodySchema(document, "/{hypervisor}/{host}/guests", .post)?.objectContext)
            #expect(schema.requiredProperties == ["name"])
            let name = try #require(schema.properties["name"]?.stringContext)
            #expect(name.pattern == Validation.namePattern && name.minLength == 1 && name.maxLength == Validation.nameMaxLength)
            let memory = try #require(schema.properties["memory"]?.integerContext)
            #expect(memory.minimum?.value == Validation.memoryMiB.lowerBound)
            #expect(memory.maximum?.value == Validation.memoryMiB.upperBound)
            #expect(schema.properties["cpus"]?.integerContext?.maximum?.value == Validation.cpus.upperBound)
            // Optional fields are read as absent when null, so the document lets them be null.
            #expect(schema.properties["memory"]?.nullable == true && schema.properties["name"]?.nullable == false)

            let power = try #require(Self.bodySchema(document, "/{hypervisor}/{host}/guests/{guest_id}/power", .put)?.objectContext)
            #expect(power.properties["state"]?.allowedValues?.compactMap { $0.value as? String }
                        == PowerAction.allCases.map(\.rawValue))
            let family = document.paths["/{hypervisor}/{host}/guests"]?.pathItemValue?.get?.parameters
                .compactMap(\.parameterValue).first { $0.name == "hypervisor" }
            let families = family?.schemaOrContent.schemaValue?.allowedValues?.compactMap { $0.value as? String } ?? []
            #expect(Set(["test", "kvm", "qemu", "lxc", "xen", "vmware", "esx", "hyperv"]).isSubset(of: Set(families)))
        }
    }

    @Test func requestsAtTheEdgesAreTakenOrRefusedAsDocumented() async throws {
        try await TestServer().run { client in
            let top = Validation.memoryMiB.upperBound
            let over = try await client.call(.post, "/test/localhost/guests", json: #"{"name": "edge-a", "memory": \#(top + 1)}"#)
            #expect(over.status == .badRequest)
            let under = try await client.call(.post, "/test/localhost/guests",
                                              json: #"{"name": "edge-b", "memory": \#(Validation.memoryMiB.lowerBound), "cpus": null}"#)
            #expect(under.status == .created, "\(under.text)")
            // A number in a string is not an integer, as the document says.
            let text = try await client.call(.post, "/test/localhost/guests", json: #"{"name": "edge-c", "memory": "64"}"#)
            #expect(text.status == .badRequest)
            let long = String(repeating: "a", count: Validation.nameMaxLength)
            #expect(try await client.call(.post, "/test/localhost/guests", json: #"{"name": "\#(long)"}"#).status == .created)
            #expect(try await client.call(.post, "/test/localhost/guests", json: #"{"name": "\#(long)b"}"#).status == .badRequest)
            let guests = try await client.call(.get, "/test/localhost/guests")
            let names = Set((guests.json as? [[String: Any]] ?? []).compactMap { $0["name"] as? String })
            #expect(names.contains("edge-b") && names.contains(long))
            #expect(!names.contains("edge-a") && !names.contains("edge-c"))
            // Event types: exactly the documented kinds.
            #expect(try await client.call(.get, "/test/localhost/events?type=guest,Host").status == .badRequest)
        }
    }

    /// The patterns the document gives accept exactly what the checks accept.
    @Test func patternsAgreeWithTheChecks() throws {
        func matches(_ pattern: String, _ text: String) -> Bool {
            text.range(of: pattern, options: .regularExpression) != nil
        }
        let names = ["a", "web-1", "A.b_c", "_x", "9", ".hidden", "-x", "", "a/b", "a b", "ä",
                     String(repeating: "n", count: 64), String(repeating: "n", count: 65)]
        for name in names {
            let valid = (try? Validation.name(name)) != nil
            #expect(valid == (matches(Validation.namePattern, name) && name.count <= Validation.nameMaxLength), "\(name)")
        }
        let images = ["Debian-12_amd64_qcow2.img", "Ubuntu-22.04_arm64_raw.img", "Tiny-1_i686_raw.img",
                      "Debian-12_x86_64_qcow2.img", "Debian_amd64_qcow2.img", "-12_amd64_raw.img", "Debian-12_amd64_vmdk.img",
                      "Debian-12_amd64_qcow2", "Debian-_amd64_raw.img", "De bian-12_amd64_raw.img"]
        for image in images {
            let valid = (try? MachineImage.Name(parsing: image)) != nil && (try? Validation.name(image)) != nil
            #expect(valid == matches(MachineImage.Name.pattern, image), "\(image)")
        }
    }

    @Test func rfc3339TimesAreReadExactly() {
        #expect(RFC3339Time.parse("2026-11-30T16:00:00Z") == Date(timeIntervalSince1970: 1_796_054_400))
        #expect(RFC3339Time.parse("2026-11-30t17:30:00.5+01:30") == Date(timeIntervalSince1970: 1_796_054_400.5))
        #expect(RFC3339Time.parse("0001-01-01T00:00:00.123456z") != nil)
        for bad in ["", "2026-11-30", "2026-11-30T16:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                    "2026-11-30T24:00:00Z", "2026-11-30T16:00:00.Z", "2026-11-30T16:00:00+1:00", "2026-11-30 16:00:00Z"] {
            #expect(RFC3339Time.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func anOperationIsItsOwnersAnotherUserGets404AndWrongCredentials401() async throws {
        let server = try TestServer { config in
            config.users["other"] = UserConfig(name: "other", passwordHash: TestServer.passwordHash)
        }
        try await server.run { client in
            let storages = try await client.call(.get, "/test/localhost/storages")
            let storage = try #require((storages.json as? [[String: Any]])?.first?["id"] as? String)
            var async = TestServer.auth
            async[.init("Prefer")!] = "respond-async"
            let started = try await client.execute(uri: "/test/localhost/storages/\(storage)/images?name=op-x", method: .post,
                                                   headers: async, body: ByteBuffer(string: "not an image")) { $0 }
            #expect(started.status == .accepted)
            let location = try #require(started.headers[.location])
            #expect(try await client.call(.get, location).status == .ok)
            func token(_ text: String) -> HTTPFields { [.init("x-simplestack-hypervisor-token")!: Data(text.utf8).base64EncodedString()] }
            #expect(try await client.call(.get, location, headers: token("other:\(TestServer.password)")).status == .notFound)
            #expect(try await client.call(.get, location, headers: token("admin:wrong")).status == .unauthorized)
            #expect(try await client.call(.get, location, headers: [:]).status == .unauthorized)
        }
    }

    @Test func operationsRefuseUnknownCredentialsWith401() async throws {
        try await TestServer().run { client in
            let wrong = Data("nobody:wrong".utf8).base64EncodedString()
            let r = try await client.call(.get, "/operations/00000000-0000-0000-0000-000000000000",
                                          headers: [.init("x-simplestack-hypervisor-token")!: wrong])
            #expect(r.status == .unauthorized)
            #expect(try await client.call(.get, "/operations/00000000-0000-0000-0000-000000000000").status == .notFound)
        }
    }
}

extension OpenAPISchemaTests {
    /// A new interface needs a unicast MAC (libvirt's schema refuses a multicast one with a 502 otherwise).
    @Test func aMulticastMACForANewInterfaceIsA400() async throws {
        try await SurfaceHarness.withTestDriver { c in
            #expect(try await c.put("/test/localhost/guests/guest1/power", #"{"state": "force_stop"}"#).status == 200)
            let nics = "/test/localhost/guests/guest1/network_interfaces"
            let before = try await c.get(nics).array.count
            let res = try await c.post(nics, #"{"network": "isolated", "mac": "07:99:e6:d0:d7:ce"}"#)
            #expect(res.status == 400)
            #expect(try await c.get(nics).array.count == before)
            let made = try await c.post(nics, #"{"network": "isolated", "mac": "06-99-E6-D0:d7:Ce"}"#)
            #expect(made.status == 201)
            #expect(made.object["id"] as? String == "06:99:e6:d0:d7:ce")
            #expect(try await c.get(nics).array.count == before + 1)
        }
    }
}
