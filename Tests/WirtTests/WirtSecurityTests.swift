#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GuesthouseConfig
@testable import GuesthouseSpool
import Libvirt
import Testing

/// Hostile inputs, tried as an attacker would: each is refused with a logged reason, the guest's
/// state does not change, and nothing outside the user's tree is touched.
extension WirtTests {
    /// Runs a pass after `attack` and checks the refusal: state unchanged, reason in swift-log and in
    /// the user's log, the entry gone (unless `kept`).
    private func expectRefused(_ h: Harness, reason: String, entry: String? = "start", kept: Bool = false,
                               userLog: Bool = true, _ attack: () throws -> Void) throws {
        let domain = "\(h.alice)-box"
        h.spool.process(userName: h.alice)   // the tree exists before the attack
        #expect(try h.state(domain) == .shutoff)
        try attack()
        h.spool.process(userName: h.alice)
        #expect(try h.state(domain) == .shutoff, "guest state changed")
        #expect(h.logs.contains(reason), "swift-log lacks \(reason): \(h.logs.all)")
        if userLog {
            let userLogs = h.read(h.vmLog(h.alice)) + h.read(h.spoolLog(h.alice))
            #expect(userLogs.contains("refused: ") && userLogs.contains(reason), "user log lacks \(reason): \(userLogs)")
        }
        if let entry {
            #expect(h.exists("\(h.vmDir(h.alice))/\(entry)") == kept)
        }
        // One bad file does not block a good one after it.
        try h.send(h.alice, "start")
        h.spool.process(userName: h.alice)
        #expect(try h.state(domain) == .running, "a good command after the bad one did not run")
    }

    @Test func aSymlinkIsRefusedAndItsTargetNeverRead() throws {
        let h = try Harness()
        let target = "\(h.scratch.root)/secret"
        try #"{"memory": 2048}"#.write(toFile: target, atomically: false, encoding: .utf8)
        try expectRefused(h, reason: "symlink", entry: "config") {
            try h.mkdirs(h.vmDir(h.alice), owner: h.alice)
            #expect(symlink(target, "\(h.vmDir(h.alice))/config") == 0)
            let (uid, gid) = h.ids(h.alice)
            lchown("\(h.vmDir(h.alice))/config", uid, gid)
        }
        #expect(try h.connection.domain(name: "\(h.alice)-box").xml(inactive: true).contains("<memory unit='KiB'>524288</memory>"))
        #expect(h.exists(target))
    }

    @Test func aHardLinkIsRefused() throws {
        let h = try Harness()
        try expectRefused(h, reason: "hard link") {
            try h.write("\(h.home(h.alice))/mine", owner: h.alice)
            try h.mkdirs(h.vmDir(h.alice), owner: h.alice)
            #expect(link("\(h.home(h.alice))/mine", "\(h.vmDir(h.alice))/start") == 0)
        }
        #expect(h.exists("\(h.home(h.alice))/mine"))
    }

    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let h = try Harness()
        try expectRefused(h, reason: "FIFO") {
            try h.mkdirs(h.vmDir(h.alice), owner: h.alice)
            #expect(mkfifo("\(h.vmDir(h.alice))/start", 0o644) == 0)
            let (uid, gid) = h.ids(h.alice)
            chown("\(h.vmDir(h.alice))/start", uid, gid)
        }
    }

    @Test func aDeviceIsRefusedWithoutBeingOpened() throws {
        let h = try Harness()
        h.spool.process(userName: h.alice)
        try h.mkdirs(h.vmDir(h.alice), owner: h.alice)
        // /dev/null's numbers (1, 3); containers without CAP_MKNOD cannot make one, then a socket stands in.
        if mknod("\(h.vmDir(h.alice))/start", mode_t(S_IFCHR) | 0o644, (1 << 8) | 3) == 0 {
            let (uid, gid) = h.ids(h.alice)
            chown("\(h.vmDir(h.alice))/start", uid, gid)
            try expectRefused(h, reason: "character device") {}
        } else {
            try expectRefused(h, reason: "socket") {
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                var addr = sockaddr_un()
                addr.sun_family = sa_family_t(AF_UNIX)
                let path = "\(h.vmDir(h.alice))/start"
                withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                    for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
                }
                _ = withUnsafePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                close(fd)
                let (uid, gid) = h.ids(h.alice)
                chown(path, uid, gid)
            }
        }
    }

    @Test func aFileNotOwnedByTheUserIsRefused() throws {
        let h = try Harness(members: 2)
        try expectRefused(h, reason: "not owned by the user") {
            try h.mkdirs(h.vmDir(h.alice), owner: h.alice)
            try h.write("\(h.vmDir(h.alice))/start", owner: h.users[1])
        }
    }

    @Test func aFileInADirectoryNotOwnedByTheUserIsRefused() throws {
        let h = try Harness(members: 2)
        let bob = h.users[1]
        try expectRefused(h, reason: "is not owned by \(h.alice)", entry: "start", kept: true) {
            try h.mkdirs(h.vmDir(h.alice), owner: h.alice)
            let (uid, gid) = h.ids(bob)
            chown(h.vmDir(h.alice), uid, gid)
            try h.write("\(h.vmDir(h.alice))/start", owner: h.alice)
            chown(h.vmDir(h.alice), uid, gid)
        }
    }

    @Test func aFileLargerThanTheLimitIsRefused() throws {
        let h = try Harness()
        try expectRefused(h, reason: "larger than 4096 bytes", entry: "config") {
            try h.send(h.alice, "config", #"{"memory": 1024}"# + String(repeating: " ", count: 5000))
        }
    }

    @Test func anUnknownCommandIsRefused() throws {
        let h = try Harness()
        try expectRefused(h, reason: "unknown command", entry: "reboot") {
            try h.send(h.alice, "reboot")
        }
    }

    @Test func badContentIsRefused() throws {
        let h = try Harness()
        try expectRefused(h, reason: "config must be a JSON object", entry: "config") {
            try h.send(h.alice, "config", "{memory: lots")
        }
        try h.send(h.alice, "config", #"{"memory": 99999999}"#)
        h.spool.process(userName: h.alice)
        #expect(h.logs.contains("memory must be 16-65536 MiB"))
        try h.send(h.alice, "destroy", "; rm -rf /")
        h.spool.process(userName: h.alice)
        #expect(h.logs.contains("destroy takes no content"))
        #expect(try h.state("\(h.alice)-box") == .running)
    }

    @Test func aVMNameReachingAnotherUsersGuestIsRefused() throws {
        // alice's "x-box" would be the domain "alice-x-box", which belongs to the user "alice-x".
        let h = try Harness(members: 1, extraUsers: [])
        let victim = try h.scratch.addUser("\(h.alice)-x")
        // The fixture has no victim guest yet: define it on the shared connection.
        _ = try h.connection.defineDomain(xml: """
            <domain type='test'><name>\(victim)-box</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
            <os><type arch='x86_64'>hvm</type></os></domain>
            """)
        let before = try h.state("\(victim)-box")
        try expectRefused(h, reason: "invalid VM name", entry: nil) {
            try h.send(h.alice, "start", vm: "x-box")
            try h.mkdirs("\(h.home(h.alice))/wirt/service/vm/a..b", owner: h.alice)
            try h.write("\(h.home(h.alice))/wirt/service/vm/a..b/start", owner: h.alice)
        }
        #expect(try h.state("\(victim)-box") == before)
        #expect(h.read(h.spoolLog(h.alice)).contains("service/vm/x-box refused: invalid VM name"))
        #expect(h.logs.contains("service/vm/a..b"))
    }

    @Test func aSymlinkedVMDirectoryIsRefused() throws {
        let h = try Harness(members: 2)
        let bob = h.users[1]
        // alice links her "box" to bob's, where bob's own start file waits: alice must not trigger it.
        h.spool.process(userName: bob)
        try h.write("\(h.vmDir(bob))/.keep", owner: bob)
        try expectRefused(h, reason: "not a VM directory (symlink)", entry: nil) {
            try h.mkdirs("\(h.home(h.alice))/wirt/service/vm", owner: h.alice)
            #expect(symlink(h.vmDir(bob), h.vmDir(h.alice)) == 0)
            try h.write("\(h.vmDir(bob))/start", owner: bob)
        }
        #expect(try h.state("\(bob)-box") == .shutoff)
        #expect(h.exists("\(h.vmDir(bob))/start"))
    }

    @Test func aSymlinkedLogsDirectoryIsNeverWrittenThrough() throws {
        let h = try Harness()
        let target = "\(h.scratch.root)/target"
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        h.spool.process(userName: h.alice)
        let wirt = "\(h.home(h.alice))/wirt"
        // alice owns ~/wirt, so she can swap the root-owned logs/ for a link.
        #expect(rename("\(wirt)/logs", "\(wirt)/old-logs") == 0)
        #expect(symlink(target, "\(wirt)/logs") == 0)
        try h.send(h.alice, "start")
        h.spool.process(userName: h.alice)
        #expect(try h.state("\(h.alice)-box") == .shutoff)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).isEmpty)
        #expect(h.logs.contains("logs is not a directory"))
        // And a user-made info/ is not trusted either.
        unlink("\(wirt)/logs")
        #expect(rename("\(wirt)/old-logs", "\(wirt)/logs") == 0)
        #expect(rename("\(wirt)/info", "\(wirt)/old-info") == 0)
        try h.mkdirs("\(wirt)/info", owner: h.alice)
        h.spool.process(userName: h.alice)
        #expect(try h.state("\(h.alice)-box") == .shutoff)
        #expect(h.logs.contains("is not a root-owned directory"))
    }

    @Test func aUserOutsideTheGroupIsIgnored() throws {
        let h = try Harness(members: 1, outsiders: 1)
        let mallory = h.outsiders[0]
        try h.write("\(h.vmDir(mallory))/start", owner: mallory)
        let result = h.spool.process(userName: mallory)
        #expect(result == WirtSpool.PassResult())
        #expect(try h.state("\(mallory)-box") == .shutoff)
        #expect(h.logs.contains("not a member of group \(h.scratch.group)"))
        #expect(h.exists("\(h.vmDir(mallory))/start"))
        #expect(!h.exists("\(h.home(mallory))/wirt/logs"))
        #expect(!h.spool.members().map(\.name).contains(mallory))
        #expect(h.spool.members().map(\.name).contains(h.alice))
        h.spool.process(userName: "root")
        #expect(h.logs.contains("root may not use the spool"))
    }

    @Test func aFloodIsHandledAFewFilesAPassAndDoesNotStarveOthers() throws {
        let h = try Harness(members: 2) { $0.maxFilesPerPass = 16 }
        let bob = h.users[1]
        for i in 0..<300 { try h.write("\(h.vmDir(h.alice))/junk\(i)", owner: h.alice) }
        let first = h.spool.process(userName: h.alice)
        #expect(first.more && first.refused == 16)
        #expect(h.logs.contains("flood: "))
        try h.send(bob, "start")
        #expect(h.spool.process(userName: bob).processed == 1)
        #expect(try h.state("\(bob)-box") == .running)
        var passes = 1
        while h.spool.process(userName: h.alice).more { passes += 1 }
        #expect(passes >= 300 / 16)
        #expect(try h.state("\(h.alice)-box") == .shutoff)
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.vmDir(h.alice)).isEmpty)
    }
}

extension WirtTests {
    @Test func entriesThatStayDoNotMakeTheSpoolSpin() throws {
        let h = try Harness { $0.maxFilesPerPass = 4 }
        for i in 0..<40 { try h.mkdirs("\(h.vmDir(h.alice))/d\(i)", owner: h.alice) }
        for i in 0..<40 { try h.write("\(h.vmDir(h.alice))/.tmp\(i)", owner: h.alice) }
        let result = h.spool.process(userName: h.alice)
        #expect(!result.more)
        #expect(h.logs.contains("service/vm/box/d7 reason=not a regular file (directory)"))
        let again = h.logs.all.count
        h.spool.process(userName: h.alice)
        #expect(h.logs.all.count == again, "a persistent refusal is reported once")
        try h.send(h.alice, "start")
        h.spool.process(userName: h.alice)
        #expect(try h.state("\(h.alice)-box") == .running)
    }

    @Test func wirtConfigIsReadFromTOML() throws {
        let config = try Config.parse("""
            [hypervisor.LOCAL1]
            url = "test:///default"
            [wirt]
            provider = "LOCAL1"
            group = "staff"
            rescan_seconds = 5
            max_file_size = 1024
            """)
        #expect(config.wirt?.provider == "LOCAL1")
        #expect(config.wirt?.group == "staff")
        #expect(config.wirt?.rescanSeconds == 5)
        #expect(config.wirt?.maxFileBytes == 1024)
        #expect(config.wirt?.maxFilesPerPass == 32)
        #expect(throws: ConfigError.self) { try Config.parse("[wirt]\nprovider = \"NOPE\"") }
        #expect(throws: ConfigError.self) { try Config.parse("[wirt]\nrescan = 5") }
        #expect(try Config.parse("").wirt == nil)
    }
}
