import Foundation
import HummingbirdTesting
import Testing

/// `GET /metrics`: Prometheus' text format, checked by prometheus_client's own parser (PyPI, in the
/// venv scripts/setup makes), and figures that move with what the server does.
@Suite struct MetricsTests {
    static let python = "/opt/guesthouse-venv/bin/python"

    /// The samples prometheus_client's parser reads from `text`, as "name{labels} value" lines.
    static func parse(_ text: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    print(f"{s.name}{{{labels}}} {s.value}")
            """]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ParseError(description: String(decoding: err, as: UTF8.self))
        }
        return String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    struct ParseError: Error, CustomStringConvertible { var description: String }

    /// The value of the one sample whose line starts with `prefix`.
    static func value(_ samples: [String], _ prefix: String) -> Double? {
        samples.first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func metricsParseAsPrometheusTextAndCountRequests() async throws {
        try await TestServer().run { client in
            #expect(try await client.call(.get, "/metrics", headers: [:]).status == .unauthorized)
            for _ in 0..<3 { #expect(try await client.call(.get, "/test/localhost/guests").status == .ok) }
            let first = try await client.call(.get, "/metrics")
            #expect(first.status == .ok)
            #expect(first.headers[.contentType]?.hasPrefix("text/plain") == true)
            let before = try Self.parse(first.text)
            let listed = #"guesthouse_http_requests_total{method="GET",route="/{hypervisor}/{host}/guests",status="200"}"#
            #expect(Self.value(before, listed) == 3, "\(before.filter { $0.contains("http_requests") })")
            // Unauthenticated /metrics was counted too, by its status.
            #expect(Self.value(before, #"guesthouse_http_requests_total{method="GET",route="/metrics",status="401"}"#) == 1)
            #expect(before.contains { $0.hasPrefix("guesthouse_http_request_duration_seconds_bucket{") })
            #expect(Self.value(before, "guesthouse_view_guests{") == 3)
            #expect(before.contains { $0.hasPrefix(#"guesthouse_libvirt_connections{host="test:///"#) && $0.contains(#"state="open""#) })

            for _ in 0..<2 { #expect(try await client.call(.get, "/test/localhost/guests").status == .ok) }
            #expect(try await client.call(.put, "/test/localhost/guests/build-box/power", json: #"{"state": "start"}"#).status == .ok)
            let after = try Self.parse(try await client.call(.get, "/metrics").text)
            #expect(Self.value(after, listed) == 5)
            #expect(Self.value(after, #"guesthouse_libvirt_calls_total{host="test:///"#) != nil)
            #expect(after.contains { $0.hasPrefix("guesthouse_libvirt_call_duration_seconds_count{") && $0.contains("power start") })
        }
    }
}
