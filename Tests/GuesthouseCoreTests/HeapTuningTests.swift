import Foundation
import GuesthouseCore
import Testing

@Suite struct HeapTuningTests {
    /// Resident anonymous memory of this process, in bytes (/proc/self/status RssAnon).
    static func residentAnonymous() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") })
        let kib = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kib * 1024
    }

    /// Holes left between live blocks stay resident after `free` (glibc only trims the top of an
    /// arena); `releaseFreeMemory` hands them back. 64 MiB in 16 KiB blocks, one in eight kept.
    @Test func freedHolesInTheHeapAreHandedBack() throws {
        let block = 16 * 1024, count = 4096
        var blocks: [UnsafeMutableRawPointer] = []
        blocks.reserveCapacity(count)
        for _ in 0..<count {
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: block, alignment: 16)
            pointer.initializeMemory(as: UInt8.self, repeating: 0xA5, count: block)
            blocks.append(pointer)
        }
        for (index, pointer) in blocks.enumerated() where index % 8 != 0 { pointer.deallocate() }
        let freed = count / 8 * 7 * block
        let before = try Self.residentAnonymous()
        HeapTuning.releaseFreeMemory()
        let after = try Self.residentAnonymous()
        for (index, pointer) in blocks.enumerated() where index % 8 == 0 { pointer.deallocate() }
        // Other suites allocate in this process meanwhile: ask for half of what was freed.
        #expect(before - after >= freed / 2, "RssAnon \(before) -> \(after) bytes, \(freed) freed")
    }
}

extension HeapTuningTests {
    /// The arena limit reaches glibc: `mallopt` is found by name and takes the setting (it answers
    /// 0 for a parameter or value it refuses).
    @Test func theArenaLimitIsTaken() {
        #expect(HeapTuning.configureForServer())
    }
}
