#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GuesthouseConfig
@testable import GuesthouseSpool
import Libvirt
import Testing

/// Every test makes real users and groups (useradd): they run one at a time, as root.
@Suite(.serialized) struct WirtTests {}

extension WirtTests {
    @Test func startRunsTheGuestMovesTheFileLogsAndWritesStatus() throws {
        let h = try Harness()
        try h.send(h.alice, "start")
        let result = h.spool.process(userName: h.alice)
        #expect(result.processed == 1)
        #expect(try h.state("\(h.alice)-box") == .running)
        #expect(!h.exists("\(h.vmDir(h.alice))/start"))
        let history = try FileManager.default.contentsOfDirectory(atPath: "\(h.home(h.alice))/wirt/logs/history")
        #expect(history.count == 1 && history[0].hasSuffix("-box-start"))
        #expect(h.read(h.vmLog(h.alice)).contains(" box start ok: started"))
        let status = h.read(h.status(h.alice))
        #expect(status.contains("<state>running</state>"))
        #expect(status.contains("<name>\(h.alice)-box</name>"))
        #expect(h.audits.all == ["\(h.alice) box start ok: started"])
    }

    @Test func refusalsReachTheAuditHook() throws {
        let h = try Harness()
        try h.send(h.alice, "reboot")
        h.spool.process(userName: h.alice)
        #expect(h.audits.all == ["\(h.alice) box service/vm/box/reboot refused: unknown command"])
    }

    @Test func hostDirectoriesBelongToRootAndServiceToTheUser() throws {
        let h = try Harness()
        h.spool.process(userName: h.alice)
        let (uid, _) = h.ids(h.alice)
        for dir in ["wirt/info", "wirt/info/vm", "wirt/logs", "wirt/logs/vm", "wirt/logs/history", "wirt/info/vm/box"] {
            var s = stat()
            #expect(lstat("\(h.home(h.alice))/\(dir)", &s) == 0)
            #expect(s.st_uid == 0 && s.st_mode & 0o7777 == 0o755, "\(dir)")
        }
        for dir in ["wirt", "wirt/service", "wirt/service/vm"] {
            var s = stat()
            #expect(lstat("\(h.home(h.alice))/\(dir)", &s) == 0)
            #expect(s.st_uid == uid, "\(dir)")
        }
        var s = stat()
        #expect(lstat(h.status(h.alice), &s) == 0 && s.st_uid == 0 && s.st_mode & 0o777 == 0o644)
    }

    @Test func stopDestroyAutostartAndConfigAreCarriedOut() throws {
        let h = try Harness()
        let domain = "\(h.alice)-box"
        try h.send(h.alice, "start")
        h.spool.process(userName: h.alice)
        #expect(try h.state(domain) == .running)
        try h.send(h.alice, "destroy")
        h.spool.process(userName: h.alice)
        #expect(try h.state(domain) == .shutoff)
        try h.send(h.alice, "start")
        h.spool.process(userName: h.alice)
        try h.send(h.alice, "stop")
        h.spool.process(userName: h.alice)
        #expect(try h.state(domain) == .shutoff)
        try h.send(h.alice, "autostart")
        h.spool.process(userName: h.alice)
        #expect(try h.connection.domain(name: domain).autostart() == true)
        try h.send(h.alice, "autostart", "--disable\n")
        h.spool.process(userName: h.alice)
        #expect(try h.connection.domain(name: domain).autostart() == false)
        try h.send(h.alice, "config", #"{"memory": 1024, "cpus": 2}"#)
        h.spool.process(userName: h.alice)
        let xml = try h.connection.domain(name: domain).xml(inactive: true)
        #expect(xml.contains("<memory unit='KiB'>1048576</memory>"))
        #expect(xml.contains(">2</vcpu>"))
        let log = h.read(h.vmLog(h.alice))
        for expected in ["box destroy ok", "box stop ok", "box autostart ok: autostart enabled",
                         "box autostart ok: autostart disabled", "box config ok: configured memory 1024 MiB, cpus 2"] {
            #expect(log.contains(expected), "\(expected)")
        }
        #expect(h.read(h.status(h.alice)).contains("<memory unit='KiB'>1048576</memory>"))
    }

    @Test func configOnARunningGuestRewritesStatusWithTheNextBootDefinition() throws {
        let h = try Harness()
        let domain = "\(h.alice)-box"
        func inode() -> ino_t {
            var s = stat()
            return lstat(h.status(h.alice), &s) == 0 ? s.st_ino : 0
        }
        try h.send(h.alice, "start")
        h.spool.process(userName: h.alice)
        #expect(try h.state(domain) == .running)
        let before = h.read(h.status(h.alice))
        #expect(before.contains("<state>running</state>"))
        #expect(!before.contains("1048576"))
        let firstInode = inode()

        try h.send(h.alice, "config", #"{"memory": 1024, "cpus": 2}"#)
        h.spool.process(userName: h.alice)
        #expect(h.read(h.vmLog(h.alice)).contains("box config ok: configured memory 1024 MiB, cpus 2 (from the next boot)"))
        // A fresh status.xml: the running definition as it is, and the next boot's with the change.
        #expect(inode() != firstInode, "status.xml was not rewritten")
        let after = h.read(h.status(h.alice))
        let nextBoot = try #require(after.range(of: "<next-boot>").map { String(after[$0.upperBound...]) })
        #expect(nextBoot.contains("<memory unit='KiB'>1048576</memory>"), "\(after)")
        #expect(nextBoot.contains(">2</vcpu>"), "\(after)")
        #expect(after.contains("<state>running</state>"))

        // Every command rewrites it, even one that changes nothing.
        let secondInode = inode()
        try h.send(h.alice, "autostart", "--disable\n")
        h.spool.process(userName: h.alice)
        #expect(inode() != secondInode, "status.xml was not rewritten after a command")
        #expect(h.read(h.status(h.alice)).contains("<autostart>no</autostart>"))
    }

    @Test func aChangeMadeOutsideTheSpoolShowsAtTheNextRescan() throws {
        let h = try Harness()
        let domain = "\(h.alice)-box"
        h.spool.process(userName: h.alice)
        #expect(h.read(h.status(h.alice)).contains("<state>shutoff</state>"))
        // Another client starts the guest and changes its next boot: no command, only a rescan.
        let d = try h.connection.domain(name: domain)
        try d.start()
        try d.setConfiguredVcpus(3)
        h.spool.process(userName: h.alice)
        let status = h.read(h.status(h.alice))
        #expect(status.contains("<state>running</state>"), "\(status)")
        #expect(status.range(of: "<next-boot>").map { status[$0.upperBound...].contains(">3</vcpu>") } == true, "\(status)")
    }

    @Test func aCommandOnAMissingGuestIsAnErrorInTheSpoolLog() throws {
        let h = try Harness()
        try h.send(h.alice, "start", vm: "nothere")
        h.spool.process(userName: h.alice)
        #expect(h.read(h.spoolLog(h.alice)).contains("nothere start error: no guest named \(h.alice)-nothere"))
        #expect(!h.exists("\(h.home(h.alice))/wirt/info/vm/nothere"))
    }

    @Test func commandsRunOldestFirstByModificationTime() throws {
        let h = try Harness()
        let domain = "\(h.alice)-box"
        let now = Int(Date().timeIntervalSince1970)
        // Written start then destroy: ends shut off.
        try h.write("\(h.vmDir(h.alice))/start", owner: h.alice, mtime: now - 10)
        try h.write("\(h.vmDir(h.alice))/destroy", owner: h.alice, mtime: now - 5)
        h.spool.process(userName: h.alice)
        #expect(try h.state(domain) == .shutoff)
        let log = h.read(h.vmLog(h.alice)).split(separator: "\n")
        #expect(log.count == 2)
        #expect(log.first?.contains("box start ok: started") == true)
        #expect(log.last?.contains("box destroy ok: powered off") == true)
        // Written destroy then start (names in the other order): ends running.
        try h.write("\(h.vmDir(h.alice))/destroy", owner: h.alice, mtime: now - 3)
        try h.write("\(h.vmDir(h.alice))/start", owner: h.alice, mtime: now - 1)
        h.spool.process(userName: h.alice)
        #expect(try h.state(domain) == .running)
        let after = h.read(h.vmLog(h.alice)).split(separator: "\n")
        #expect(after.count == 4)
        #expect(after[2].contains("box destroy ok: already shut off"))
        #expect(after[3].contains("box start ok: started"))
    }

    @Test func logsRotateIntoGzippedGenerations() throws {
        let h = try Harness { $0.logMaxBytes = 1024; $0.logKeep = 2 }
        for i in 0..<80 {
            try h.send(h.alice, i % 2 == 0 ? "start" : "destroy")
            h.spool.process(userName: h.alice)
        }
        let dir = "\(h.home(h.alice))/wirt/logs/vm"
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        #expect(names.isSuperset(of: ["box.log", "box.log.1.gz", "box.log.2.gz"]))
        #expect(!names.contains("box.log.3.gz"))
        let gz = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/box.log.1.gz"))
        #expect(gz.prefix(2) == Data([0x1f, 0x8b]))
        #expect(WirtClient.size("\(dir)/box.log") <= 1024 + 200)
    }

    @Test func configIsParsedStrictly() throws {
        func parse(_ name: String, _ text: String) throws -> WirtCommand {
            try WirtCommand.parse(name: name, content: Array(text.utf8), maxMemoryMiB: 4096, maxCpus: 4)
        }
        #expect(try parse("config", #"{"cpus": 2}"#) == .config(memoryMiB: nil, cpus: 2))
        #expect(try parse("autostart", " --disable\n") == .autostart(false))
        #expect(throws: WirtRefusal.self) { try parse("config", #"{"memory": 8192}"#) }
        #expect(throws: WirtRefusal.self) { try parse("config", #"{"cpus": 1.5}"#) }
        #expect(throws: WirtRefusal.self) { try parse("config", #"{"cpus": true}"#) }
        #expect(throws: WirtRefusal.self) { try parse("config", #"{"cpus": 1, "emulator": "/bin/sh"}"#) }
        #expect(throws: WirtRefusal.self) { try parse("config", "{}") }
        #expect(throws: WirtRefusal.self) { try parse("config", "[1]") }
        #expect(throws: WirtRefusal.self) { try parse("start", "now") }
        #expect(throws: WirtRefusal.self) { try parse("autostart", "--yes") }
        #expect(throws: WirtRefusal.self) { try parse("reboot", "") }
        #expect(WirtCommand.isValidVMName("box_1"))
        for bad in ["", "..", ".", "a/b", "bob-box", ".hidden", "_x", "é", String(repeating: "a", count: 33)] {
            #expect(!WirtCommand.isValidVMName(bad), "\(bad)")
        }
    }
}
