import Foundation
import Testing

/// `Expect: 100-continue` (curl sends it before any body over 1 MiB and otherwise waits a second):
/// the real server answers `100 Continue` at once, then reads the body and answers as usual.
@Suite struct ExpectContinueTests {
    @Test func anUploadThatExpectsContinueGetsItBeforeSendingItsBody() async throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("gh-expect-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try await ServedGuesthouse.with(in: work) { served in
            for expect in [true, false] {
                let client = try RawHTTPClient(port: served.port, timeoutSeconds: 10)
                defer { client.close() }
                let head = "POST /kvm/localhost/storages/default/guests HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "x-simplestack-hypervisor-token: \(SurfaceHarness.token)\r\nContent-Type: application/octet-stream\r\n"
                    + "Content-Length: 1024\r\n" + (expect ? "Expect: 100-continue\r\n" : "") + "\r\n"
                #expect(client.send(Array(head.utf8)) == head.utf8.count)
                if expect {
                    // Nothing of the body is sent before the interim answer.
                    #expect(client.readHead().hasPrefix("HTTP/1.1 100 Continue"))
                }
                // 1 KiB of zeros is no archive: the body was read, and the answer says what is wrong with it.
                #expect(client.send([UInt8](repeating: 0, count: 1024)) == 1024)
                let final = client.readHead()
                #expect(final.hasPrefix("HTTP/1.1 400"), "\(final)")
            }
        }
    }
}
