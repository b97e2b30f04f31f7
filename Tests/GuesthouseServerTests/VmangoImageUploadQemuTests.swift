import Foundation
import GuesthouseCore
import GuesthouseVmango
import HummingbirdTesting
import Libvirt
import NIOCore
import GuesthouseTestSupport
import Testing

extension ImageTransferQemuSuites {
    /// `POST /api/images/` on qemu:///system: an image uploaded (multipart or raw) lands in the
    /// provider's image pool under its vmango name, in the format the name says.
    @Suite struct VmangoImageUploadQemuTests {
        static func multipart(boundary: String, fields: [(String, String)], file: (name: String, data: Data)) -> Data {
            var body = Data()
            for (name, value) in fields {
                body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
            }
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(file.name)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            body += file.data
            body += Data("\r\n--\(boundary)--\r\n".utf8)
            return body
        }

        @Test func anImageUploadedAsAFormOrARawBodyLandsInTheImagePool() async throws {
            let prefix = "ghimg-" + UUID().uuidString.prefix(8).lowercased()
            let scratch = try ScratchProvider.make(prefix: prefix)
            defer { scratch.tearDown() }
            var server = try TestServer.vmango()
            server.config.hypervisors = ["QEMU1": scratch.hypervisorConfig(name: "QEMU1")]
            try await ImageImportQemuTests.withWorkDirectory { dir in
                let vmdk = "\(dir)/tiny.vmdk"
                try Tool.check(["qemu-img", "convert", "-f", "raw", "-O", "vmdk", try Tool.testImage(), vmdk])
                let data = try Data(contentsOf: URL(fileURLWithPath: vmdk))
                try await server.run(.router, operationTimeout: 600) { client in
                    let boundary = "gh-\(UUID().uuidString)"
                    let form = Self.multipart(boundary: boundary, fields: [("provider", "QEMU1"), ("name", "Tiny-1_amd64_qcow2.img")],
                                              file: ("tiny.vmdk", data))
                    var headers = TestServer.auth
                    headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
                    let made = try await client.execute(uri: "/api/images/", method: .post, headers: headers,
                                                        body: ByteBuffer(bytes: form)) { ($0.status.code, String(buffer: $0.body)) }
                    #expect(made.0 == 201, "\(made.1)")
                    #expect(made.1.contains("\"Id\":\"Tiny-1_amd64_qcow2.img\""))

                    // The raw body with query parameters, as a raw image.
                    let raw = try await client.execute(uri: "/api/images/?provider=QEMU1&name=Tiny-2_amd64_raw.img", method: .post,
                                                       headers: TestServer.auth, body: ByteBuffer(bytes: data)) {
                        ($0.status.code, String(buffer: $0.body))
                    }
                    #expect(raw.0 == 201, "\(raw.1)")

                    let conn = try Connection(uri: "qemu:///system")
                    let pool = try conn.storagePool(name: scratch.imagePool)
                    try pool.refresh()
                    for (name, format) in [("Tiny-1_amd64_qcow2.img", "qcow2"), ("Tiny-2_amd64_raw.img", "raw")] {
                        let path = try pool.volume(name: name).path()
                        #expect(try Tool.run(["qemu-img", "compare", "-f", "raw", "-F", format, try Tool.testImage(), path]).status == 0)
                    }
                    let listed = try await client.call(.get, "/api/images/")
                    #expect(listed.text.contains("Tiny-1_amd64_qcow2.img") && listed.text.contains("Tiny-2_amd64_raw.img"))

                    // A name vmango cannot read is refused in vmango's shape, and nothing is made.
                    let bad = try await client.execute(uri: "/api/images/?provider=QEMU1&name=tiny.img", method: .post,
                                                       headers: TestServer.auth, body: ByteBuffer(bytes: data)) {
                        ($0.status.code, String(buffer: $0.body))
                    }
                    #expect(bad.0 == 400)
                    #expect(bad.1.hasPrefix("{\"Error\":"))
                    try pool.refresh()
                    #expect(try pool.volumes().count == 2)
                }
            }
        }
    }
}
