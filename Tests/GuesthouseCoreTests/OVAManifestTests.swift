import GuesthouseCore
import Testing

@Suite struct OVAManifestTests {
    static let abc = MemberDigests(sha1: "a9993e364706816aba3e25717850c26c9cd0d89d",
                                   sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")

    @Test func sha1AndSha256LinesAreReadAsOvftoolAndVirtualBoxWriteThem() throws {
        let manifest = try OVAManifest(parsing: """
            SHA256(web.ovf)= BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD
            SHA1 (web-disk1.vmdk) = a9993e364706816aba3e25717850c26c9cd0d89d

            """)
        #expect(manifest.entries == [
            .init(algorithm: .sha256, file: "web.ovf", digest: Self.abc.sha256),
            .init(algorithm: .sha1, file: "web-disk1.vmdk", digest: Self.abc.sha1),
        ])
        try manifest.verify(["web.ovf": Self.abc, "web-disk1.vmdk": Self.abc, "unlisted.iso": Self.abc])
    }

    @Test func aMismatchOrAMissingFileIsRefusedNamingTheFile() throws {
        let manifest = try OVAManifest(parsing: "SHA1(web-disk1.vmdk)= \(Self.abc.sha1)\n")
        let other = MemberDigests(sha1: String(repeating: "0", count: 40), sha256: String(repeating: "0", count: 64))
        let mismatch = #expect(throws: GuesthouseError.self) { try manifest.verify(["web-disk1.vmdk": other]) }
        #expect(mismatch?.kind == .invalidArguments)
        #expect(mismatch?.message.contains("web-disk1.vmdk") == true)
        #expect(mismatch?.message.contains(Self.abc.sha1) == true)
        let missing = #expect(throws: GuesthouseError.self) { try manifest.verify(["web.ovf": Self.abc]) }
        #expect(missing?.message.contains("web-disk1.vmdk") == true)
    }

    @Test func malformedLinesAndOtherAlgorithmsAreRefused() {
        for text in ["MD5(a.vmdk)= 900150983cd24fb0d6963f7d28e17f72", "SHA1(a.vmdk) a9993e36", "SHA256(a.vmdk)= xyz",
                     "SHA1(a.vmdk)= a9993e364706816aba3e25717850c26c9cd0d89"] {
            #expect(throws: GuesthouseError.self, "\(text)") { try OVAManifest(parsing: text) }
        }
    }
}
