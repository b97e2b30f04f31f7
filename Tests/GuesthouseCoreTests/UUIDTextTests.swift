import GuesthouseCore
import Testing

@Suite struct UUIDTextTests {
    @Test func keysAreLowercaseAndDashed() {
        #expect(UUIDText.key("6f1e8f2a-0000-4000-8000-000000000002") == "6f1e8f2a-0000-4000-8000-000000000002")
        #expect(UUIDText.key("6F1E8F2A-0000-4000-8000-00000000000A") == "6f1e8f2a-0000-4000-8000-00000000000a")
        #expect(UUIDText.key("6F1E8F2A000040008000000000000000") == "6f1e8f2a-0000-4000-8000-000000000000")
        for name in ["web-1", "", "6f1e8f2a-0000-4000-8000-00000000000g", "6f1e8f2a00-00-4000-8000-000000000002",
                     "6f1e8f2a00004000800000000000000", "guests"] {
            #expect(UUIDText.key(name) == nil, "\(name)")
        }
        #expect(UUIDText.isDashed(Array("6f1e8f2a-0000-4000-8000-000000000002".utf8)))
        #expect(!UUIDText.isDashed(Array("6f1e8f2a000040008000000000000002".utf8)))
    }
}
