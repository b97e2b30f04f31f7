#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GuesthouseConfig
import Logging

/// The wirt spool's processing: one pass over one user's command files. Runs as root; every path
/// below the user's home is reached from directory descriptors without following links, files are
/// checked on their opened descriptors, and one bad file or user never stops the others.
///
/// Layout in a user's home (created on first use):
/// ```
/// ~/wirt/service/vm/<vm>/{start,stop,destroy,autostart,config}   user-owned: commands
/// ~/wirt/info/vm/<vm>/status.xml                                 root-owned 0755/0644
/// ~/wirt/logs/vm/<vm>.log, ~/wirt/logs/spool.log, logs/history/  root-owned 0755/0644
/// ```
public final class WirtSpool: @unchecked Sendable {
    /// Which entries a pass looks at.
    public enum ScanMode: Sendable, Comparable {
        /// Only entries that are not regular files (a file just created may still be being written;
        /// its close brings a full pass).
        case nonRegularOnly
        /// Everything.
        case full
    }

    /// What one pass did.
    public struct PassResult: Sendable, Equatable {
        public var processed = 0
        public var refused = 0
        /// More files wait than one pass handles: schedule another pass (after other users).
        public var more = false
    }

    public let config: WirtConfig
    let guests: any WirtGuests
    let logger: Logger
    /// Told of every command acted on and every refusal: (user, guest, command, result), for the
    /// server's audit log.
    public typealias Audit = @Sendable (_ user: String, _ vm: String, _ command: String, _ result: String) -> Void
    let audit: Audit?
    /// Called with every directory descriptor a pass opens, before it is listed (the service adds an
    /// inotify watch on it), with the user's name and whether it is the home directory.
    var watch: ((DirFD, String, Bool) -> Void)?

    private let lock = NSLock()
    private var statusCache: [String: WirtGuestStatus] = [:]
    private var reported: Set<String> = []
    private var sequence = 0

    /// - Parameters:
    ///   - config: `[wirt]`: group, limits.
    ///   - guests: where commands are carried out.
    ///   - audit: told of each command's outcome and each refusal.
    public init(config: WirtConfig, guests: any WirtGuests, logger: Logger = Logger(label: "guesthouse.wirt"),
                audit: Audit? = nil) {
        self.config = config
        self.guests = guests
        self.logger = logger
        self.audit = audit
    }

    /// The members of the configured group the spool serves (valid names, not root).
    public func members() -> [WirtUser] {
        guard let group = WirtGroup.members(of: config.group) else {
            logger.warning("wirt group does not exist", metadata: ["group": "\(config.group)"])
            return []
        }
        return group.names.sorted().compactMap { name in
            guard WirtCommand.isValidUserName(name), let user = WirtUser.lookup(name), user.uid != 0 else { return nil }
            return user
        }
    }

    /// Whether `user` is (now) a member of the configured group.
    func isMember(_ user: WirtUser) -> Bool {
        guard let group = WirtGroup.lookup(config.group) else { return false }
        return group.gid == user.gid || group.names.contains(user.name)
    }

    /// Processes one user's command files once; the entry point of tests and of the service.
    /// A user outside the group, root, or a name that is not a plain user name is refused and logged.
    @discardableResult
    public func process(userName: String, mode: ScanMode = .full) -> PassResult {
        guard WirtCommand.isValidUserName(userName), let user = WirtUser.lookup(userName) else {
            logger.warning("wirt: refused user", metadata: ["user": "\(userName)", "reason": "no such user or invalid name"])
            return PassResult()
        }
        guard user.uid != 0 else {
            logger.warning("wirt: refused user", metadata: ["user": "\(userName)", "reason": "root may not use the spool"])
            return PassResult()
        }
        guard isMember(user) else {
            logger.warning("wirt: refused user", metadata: [
                "user": "\(userName)", "reason": "not a member of group \(config.group)",
            ])
            return PassResult()
        }
        return lock.withLock {
            do {
                return try pass(user, mode: mode)
            } catch {
                logger.error("wirt: cannot process user", metadata: ["user": "\(userName)", "reason": "\(error)"])
                return PassResult()
            }
        }
    }

    // MARK: - One pass

    private struct Tree {
        var vm: DirFD
        var infoVM: DirFD
        var logs: DirFD
        var logsVM: DirFD
        var history: DirFD
    }

    private struct Candidate {
        var vm: String
        var dir: DirFD
        var name: String
        var info: FileInfo
    }

    private func openTree(_ user: WirtUser) throws -> Tree {
        let home = try DirFD.openTrusted(user.home)
        guard try home.stat().uid == user.uid else { throw WirtRefusal("home directory \(user.home) is not owned by \(user.name)") }
        watch?(home, user.name, true)
        let owner = (uid: user.uid, gid: user.gid)
        let wirt = try home.openOrMakeDir("wirt", mode: 0o755, owner: owner)
        let wirtOwner = try wirt.stat().uid
        guard wirtOwner == user.uid || wirtOwner == 0 else { throw WirtRefusal("~/wirt is not owned by \(user.name)") }
        watch?(wirt, user.name, false)
        let service = try userDir(wirt, "service", user)
        let vm = try userDir(service, "vm", user)
        let info = try rootDir(wirt, "info")
        let logs = try rootDir(wirt, "logs")
        return Tree(vm: vm, infoVM: try rootDir(info, "vm"), logs: logs, logsVM: try rootDir(logs, "vm"),
                    history: try rootDir(logs, "history"))
    }

    private func userDir(_ parent: DirFD, _ name: String, _ user: WirtUser) throws -> DirFD {
        let d = try parent.openOrMakeDir(name, mode: 0o755, owner: (user.uid, user.gid))
        guard try d.stat().uid == user.uid else { throw WirtRefusal("\(d.path) is not owned by \(user.name)") }
        watch?(d, user.name, false)
        return d
    }

    /// A host-written directory: must be root's and writable by nobody else, else nothing is written there.
    private func rootDir(_ parent: DirFD, _ name: String) throws -> DirFD {
        let d = try parent.openOrMakeDir(name, mode: 0o755, owner: nil)
        let info = try d.stat()
        guard info.uid == 0, info.mode & 0o022 == 0 else {
            throw WirtRefusal("\(d.path) is not a root-owned directory; remove it and the spool recreates it")
        }
        return d
    }

    private func pass(_ user: WirtUser, mode: ScanMode) throws -> PassResult {
        let tree = try openTree(user)
        var result = PassResult()
        let domains = Set((try? guests.domainNames()) ?? [])
        let prefix = user.name + "-"

        // Gather candidates from every VM directory.
        var candidates: [Candidate] = []
        var touched: Set<String> = []
        let (vmNames, tooManyVMs) = tree.vm.entries(limit: config.maxVMsPerUser)
        if tooManyVMs {
            refuse(user, vm: nil, file: "service/vm", "more than \(config.maxVMsPerUser) entries in service/vm; the rest are ignored",
                   tree: tree, domains: domains, once: "vms:\(user.name)")
        }
        // Directories inside a VM directory count too: at most this many entries are looked at per VM.
        let perDirLimit = config.maxFilesPerPass * 4 + 64
        for vm in vmNames where !vm.hasPrefix(".") {
            guard let entry = tree.vm.lstat(vm) else { continue }
            guard entry.isDirectory else {
                if mode == .full || !entry.isRegular {
                    tree.vm.unlink(vm)
                    refuse(user, vm: nil, file: "service/vm/\(vm)", "not a VM directory (\(entry.typeName)); removed",
                           tree: tree, domains: domains)
                    result.refused += 1
                }
                continue
            }
            guard WirtCommand.isValidVMName(vm) else {
                refuse(user, vm: nil, file: "service/vm/\(vm)",
                       "invalid VM name: use 1-32 letters, digits or '_' (no '-', '.', '/')",
                       tree: tree, domains: domains, once: "badvm:\(user.name):\(entry.ino):\(vm)")
                continue
            }
            let dir: DirFD
            do {
                dir = try tree.vm.openDir(vm)
                // Watched even when refused: once the user fixes it, the next change brings a pass.
                watch?(dir, user.name, false)
                guard try dir.stat().uid == user.uid else { throw WirtRefusal("directory service/vm/\(vm) is not owned by \(user.name)") }
            } catch {
                refuse(user, vm: vm, file: "service/vm/\(vm)", "\(error)", tree: tree, domains: domains,
                       once: "vmdir:\(user.name):\(entry.ino):\(entry.uid)")
                continue
            }
            let (files, truncated) = dir.entries(limit: perDirLimit, skipDotNames: true)
            var found = 0
            for file in files where !file.hasPrefix(".") {
                guard let info = dir.lstat(file) else { continue }
                if info.isDirectory {
                    // Never a command and never removed: reported once, not queued (no pass loops on it).
                    refuse(user, vm: vm, file: "service/vm/\(vm)/\(file)", "not a regular file (directory)",
                           tree: tree, domains: domains, once: "dir:\(user.name):\(info.ino)")
                    continue
                }
                if mode == .nonRegularOnly && info.isRegular { continue }
                candidates.append(Candidate(vm: vm, dir: dir, name: file, info: info))
                found += 1
            }
            // More entries than listed: another pass, but only if this one makes progress here
            // (entries that stay, such as dot-files, must not make the spool spin).
            if truncated && found > 0 { result.more = true }
        }

        // Oldest first, across all of the user's VMs.
        candidates.sort { a, b in
            if a.info.mtimeNanos != b.info.mtimeNanos { return a.info.mtimeNanos < b.info.mtimeNanos }
            if a.info.ctimeNanos != b.info.ctimeNanos { return a.info.ctimeNanos < b.info.ctimeNanos }
            return a.name < b.name
        }
        if candidates.count > config.maxFilesPerPass {
            result.more = true
            refuse(user, vm: nil, file: "service/vm",
                   "flood: \(candidates.count) files waiting; \(config.maxFilesPerPass) are handled per pass, the rest later",
                   tree: tree, domains: domains)
            candidates.removeLast(candidates.count - config.maxFilesPerPass)
        }

        for c in candidates {
            touched.insert(c.vm)
            guard let done = handle(c, user: user, tree: tree, domains: domains) else {
                // Changed since listed: stop here; the next pass lists and sorts again.
                result.more = true
                break
            }
            if done { result.processed += 1 } else { result.refused += 1 }
        }

        // Keep status.xml current: for every guest of the user's (full passes, which also catch changes
        // made elsewhere, the next boot's definition included), else those touched.
        let vms: [String]
        if mode == .full {
            vms = domains.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
                .filter(WirtCommand.isValidVMName).sorted()
        } else {
            vms = touched.sorted()
        }
        for vm in vms where domains.contains(prefix + vm) {
            writeStatus(user, vm: vm, tree: tree, force: false)
        }
        if result.processed > 0 { pruneHistory(tree.history) }
        return result
    }

    /// Consumes, validates and carries out one command file. True when it was carried out (even if
    /// the hypervisor failed), false when refused, nil when it changed since listed (pass again).
    ///
    /// The entry is first moved (renamed, which never follows a link) into the root-owned history,
    /// and only then checked and read there: whatever inode was moved is exactly the one judged, so
    /// a user swapping the file meanwhile can neither slip another one in nor lose a newer command.
    private func handle(_ c: Candidate, user: WirtUser, tree: Tree, domains: Set<String>) -> Bool? {
        let domain = "\(user.name)-\(c.vm)"
        let file = "service/vm/\(c.vm)/\(c.name)"
        guard WirtCommand.names.contains(c.name) else {
            if let now = c.dir.lstat(c.name), !now.isDirectory { c.dir.unlink(c.name) }
            refuse(user, vm: c.vm, file: file, "unknown command", tree: tree, domains: domains)
            return false
        }
        let historyName = nextHistoryName(vm: c.vm, command: c.name)
        guard renameat(c.dir.fd, c.name, tree.history.fd, historyName) == 0 else {
            if errno == ENOENT { return false }   // gone meanwhile: nothing to do
            refuse(user, vm: c.vm, file: file, "cannot move to history: \(errnoText())", tree: tree, domains: domains)
            c.dir.unlink(c.name)
            return false
        }
        if let moved = tree.history.lstat(historyName), !moved.sameFile(c.info) {
            // A newer file replaced the one listed: the order decided on is stale. Give it back (link
            // fails if yet another arrived, then this one is superseded) and let a new pass re-sort.
            if linkat(tree.history.fd, historyName, c.dir.fd, c.name, 0) != 0 && errno != EEXIST {
                _ = renameat(tree.history.fd, historyName, c.dir.fd, ".refused-\(c.name)")
            }
            tree.history.unlink(historyName)
            return nil
        }
        let command: WirtCommand
        do {
            let (data, _) = try tree.history.readUserFile(historyName, uid: user.uid, maxBytes: config.maxFileBytes)
            command = try WirtCommand.parse(name: c.name, content: data, maxMemoryMiB: config.maxMemoryMiB,
                                            maxCpus: config.maxCpus)
        } catch {
            if let moved = tree.history.lstat(historyName), moved.isDirectory {
                // Swapped for a directory: hand it back rather than keep a user's directory here.
                _ = renameat(tree.history.fd, historyName, c.dir.fd, ".refused-\(c.name)")
            } else {
                tree.history.unlink(historyName)
            }
            refuse(user, vm: c.vm, file: file, "\(error)", tree: tree, domains: domains)
            return false
        }
        let outcome: String
        do {
            outcome = "ok: " + (try guests.perform(command, domain: domain))
            logger.info("wirt: command done", metadata: [
                "user": "\(user.name)", "vm": "\(c.vm)", "command": "\(c.name)", "result": "\(outcome)",
            ])
        } catch {
            outcome = "error: \(error)"
            logger.notice("wirt: command failed", metadata: [
                "user": "\(user.name)", "vm": "\(c.vm)", "command": "\(c.name)", "error": "\(error)",
            ])
        }
        // Rewritten after every command, even one that changed nothing the status shows.
        if domains.contains(domain) { writeStatus(user, vm: c.vm, tree: tree, force: true) }
        appendLog(vm: c.vm, command: c.name, outcome, tree: tree, domains: domains, user: user)
        audit?(user.name, c.vm, c.name, outcome)
        return true
    }

    /// Logs a refusal to swift-log and to the user's log (the VM's log when that guest exists, else
    /// `logs/spool.log`). `once` suppresses repeats of a refusal that persists (an entry left in place).
    private func refuse(_ user: WirtUser, vm: String?, file: String, _ reason: String, tree: Tree,
                        domains: Set<String>, once: String? = nil) {
        if let once {
            if reported.contains(once) { return }
            if reported.count > 100_000 { reported.removeAll() }
            reported.insert(once)
        }
        logger.warning("wirt: refused", metadata: ["user": "\(user.name)", "file": "\(file)", "reason": "\(reason)"])
        audit?(user.name, vm ?? "", file, "refused: \(reason)")
        appendLog(vm: vm, command: file, "refused: \(reason)", tree: tree, domains: domains, user: user)
    }

    private func appendLog(vm: String?, command: String, _ outcome: String, tree: Tree, domains: Set<String>, user: WirtUser) {
        let time = Self.timestamp(Date())
        let line = "\(time) \(vm ?? "-") \(command) \(outcome)".replacingOccurrences(of: "\n", with: " ") + "\n"
        do {
            if let vm, WirtCommand.isValidVMName(vm), domains.contains("\(user.name)-\(vm)") {
                try WirtLogFile.append(line, to: "\(vm).log", in: tree.logsVM, maxBytes: config.logMaxBytes, keep: config.logKeep)
            } else {
                try WirtLogFile.append(line, to: "spool.log", in: tree.logs, maxBytes: config.logMaxBytes, keep: config.logKeep)
            }
        } catch {
            logger.error("wirt: cannot write user log", metadata: ["user": "\(user.name)", "reason": "\(error)"])
        }
    }

    private func writeStatus(_ user: WirtUser, vm: String, tree: Tree, force: Bool) {
        let domain = "\(user.name)-\(vm)"
        do {
            guard let status = try guests.status(domain: domain) else { return }
            if !force && statusCache[domain] == status { return }
            let dir = try rootDir(tree.infoVM, vm)
            try dir.writeAtomically("status.xml", Array(Self.statusXML(vm: vm, domain: domain, status).utf8))
            statusCache[domain] = status
        } catch {
            logger.error("wirt: cannot write status", metadata: ["user": "\(user.name)", "vm": "\(vm)", "reason": "\(error)"])
        }
    }

    static func statusXML(vm: String, domain: String, _ s: WirtGuestStatus) -> String {
        func body(_ xml: String) -> String {
            var xml = xml
            if xml.hasPrefix("<?xml"), let end = xml.range(of: "?>") { xml = String(xml[end.upperBound...]) }
            return xml.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let nextBoot = s.nextBootXML.map { "\n  <next-boot>\n\(body($0))\n  </next-boot>" } ?? ""
        return """
        <?xml version="1.0" encoding="UTF-8"?>
        <status>
          <vm>\(vm)</vm>
          <domain>\(domain)</domain>
          <state>\(s.state)</state>
          <autostart>\(s.autostart ? "yes" : "no")</autostart>
          <updated>\(timestamp(Date()))</updated>
          <definition>
        \(body(s.xml))
          </definition>\(nextBoot)
        </status>

        """
    }

    private func nextHistoryName(vm: String, command: String) -> String {
        sequence += 1
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        var parts = tm()
        var secs = t.tv_sec
        gmtime_r(&secs, &parts)
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                           Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
                           Int(t.tv_nsec / 1000))
        return "\(stamp)-\(String(format: "%06d", sequence % 1_000_000))-\(vm)-\(command)"
    }

    private func pruneHistory(_ history: DirFD) {
        let (names, _) = history.entries(limit: config.historyKeep * 2 + 1000)
        let files = names.filter { !$0.hasPrefix(".") }.sorted()
        guard files.count > config.historyKeep else { return }
        for name in files.prefix(files.count - config.historyKeep) { history.unlink(name) }
    }

    /// ISO 8601 UTC time with milliseconds.
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
