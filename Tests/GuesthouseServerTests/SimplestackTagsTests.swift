import Foundation
import Testing

@Suite struct SimplestackTagsTests {
    let guest = "/test/localhost/guests/guest1"

    @Test func tagsAreAddedListedAndRemoved() async throws {
        try await SurfaceHarness.withTestDriver { c in
            #expect(try await c.get(guest + "/tags").array.isEmpty)
            let created = try await c.post(guest + "/tags", #"{"name": "web"}"#)
            #expect(created.status == 201)
            #expect(created.location == guest + "/tags/web")
            #expect(created.headers[.contentType] == "application/json")
            #expect(created.array as? [String] == ["web"])
            let second = try await c.post(guest + "/tags", #"{"name": "db prod"}"#)
            #expect(second.array as? [String] == ["web", "db prod"])
            // Clients send tags unescaped or escaped; both name the same tag.
            let removed = try await c.delete(guest + "/tags/db%20prod")
            #expect(removed.status == 200)
            #expect(try await c.get(guest + "/tags").array as? [String] == ["web"])
        }
    }

    @Test func deletingAnUnknownTagIsNotFound() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let res = try await c.delete(guest + "/tags/nope")
            #expect(res.status == 404)
            #expect(res.errorClass == "EntityNotFound")
        }
    }

    @Test func aTagNeedsAName() async throws {
        try await SurfaceHarness.withTestDriver { c in
            let res = try await c.post(guest + "/tags", "{}")
            #expect(res.status == 400)
            #expect(res.errorClass == "InvalidArguments")
            #expect(try await c.get("/test/localhost/guests/nope/tags").status == 404)
        }
    }

    @Test func concurrentTagPostsLoseNothing() async throws {
        try await SurfaceHarness.withTestDriver { c in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<20 {
                    group.addTask { try await c.post(guest + "/tags", #"{"name": "t\#(i)"}"#).status }
                }
                for try await status in group { #expect(status == 201) }
            }
            let tags = try await c.get(guest + "/tags").array as? [String] ?? []
            #expect(Set(tags) == Set((0..<20).map { "t\($0)" }))
        }
    }
}
