import Foundation
import GuesthouseCore
import GuesthouseOverlay

/// The shared base root filesystem every container's layer sits on: Debian's statically linked
/// busybox (package busybox-static) with a link per applet, a few files of /etc and Guesthouse's
/// init. Building it takes well under a second; it is built once, into a scratch directory that is
/// renamed into place, so a half-built base is never used.
public struct BaseRootfs: Sendable {
    /// Written last; a base without it is not Guesthouse's and is not used.
    static let marker = ".guesthouse-rootfs"
    static let version = "1"
    /// The container's init, inside the root filesystem.
    public static let initPath = "/sbin/guesthouse-init"
    /// The console log, inside the root filesystem.
    public static let consoleLogPath = "/var/log/console.log"

    public let path: String
    public let busybox: String

    public init(path: String, busybox: String = "/bin/busybox") {
        self.path = path
        self.busybox = busybox
    }

    /// Whether a complete base of this version is in place.
    public var isBuilt: Bool {
        (try? String(contentsOfFile: "\(path)/\(Self.marker)", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) == Self.version
    }

    /// Builds the base unless it is already there. Blocking.
    /// - Parameter progress: told what is being done.
    /// - Throws: `GuesthouseError` when busybox is missing or not static, or the path holds something else.
    public func ensure(progress: (String) -> Void = { _ in }) throws {
        if isBuilt { return }
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            throw GuesthouseError.hypervisor("\(path) exists but is not a guesthouse base root filesystem "
                                             + "(no \(Self.marker)); remove it or set [containers] rootfs")
        }
        try Self.requireStatic(busybox)
        let scratch = "\(path).building-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? fm.removeItem(atPath: scratch)
        defer { try? fm.removeItem(atPath: scratch) }
        progress("building the base root filesystem in \(path) from \(busybox)")
        try fm.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        for dir in ["bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run", "root", "etc", "var/log", "tmp"] {
            try fm.createDirectory(atPath: "\(scratch)/\(dir)", withIntermediateDirectories: true)
        }
        chmod("\(scratch)/tmp", 0o1777)
        chmod("\(scratch)/root", 0o700)
        try fm.copyItem(atPath: busybox, toPath: "\(scratch)/bin/busybox")
        chmod("\(scratch)/bin/busybox", 0o755)
        let applets = try HostCommand().run(busybox, ["--list-full"])
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.contains("..") && !$0.hasPrefix("/") }
        progress("linking \(applets.count) busybox applets")
        for applet in applets where applet != "bin/busybox" {
            let link = "\(scratch)/\(applet)"
            try fm.createDirectory(atPath: (link as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if !fm.fileExists(atPath: link) { try fm.createSymbolicLink(atPath: link, withDestinationPath: "/bin/busybox") }
        }
        try write("\(scratch)/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        try write("\(scratch)/etc/group", "root:x:0:\n")
        try write("\(scratch)/etc/hosts", "127.0.0.1 localhost\n")
        try write("\(scratch)/etc/shells", "/bin/sh\n")
        try write("\(scratch)\(Self.initPath)", Self.initScript, mode: 0o755)
        try write("\(scratch)/\(Self.marker)", Self.version + "\n")
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard rename(scratch, path) == 0 else {
            if isBuilt { return }  // another process built it meanwhile
            throw GuesthouseError.hypervisor("cannot move the base root filesystem into \(path): \(String(cString: strerror(errno)))")
        }
        progress("base root filesystem ready")
    }

    private func write(_ file: String, _ text: String, mode: Int16 = 0o644) throws {
        try text.write(toFile: file, atomically: false, encoding: .utf8)
        chmod(file, mode_t(mode))
    }

    /// Refuses a busybox that needs a dynamic loader (Debian's `busybox` package, not `busybox-static`).
    static func requireStatic(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GuesthouseError.hypervisor("\(path) not found: install busybox-static (apt-get install busybox-static)")
        }
        defer { try? handle.close() }
        let header = [UInt8](handle.readData(ofLength: 64))
        guard header.count == 64, header[0...3] == [0x7F, 0x45, 0x4C, 0x46], header[4] == 2, header[5] == 1 else {
            throw GuesthouseError.hypervisor("\(path) is not a 64-bit little-endian ELF program")
        }
        func int(_ offset: Int, _ size: Int, in bytes: [UInt8]) -> Int {
            (0..<size).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        let phoff = int(0x20, 8, in: header), phentsize = int(0x36, 2, in: header), phnum = int(0x38, 2, in: header)
        try handle.seek(toOffset: UInt64(phoff))
        let table = [UInt8](handle.readData(ofLength: phentsize * phnum))
        guard table.count == phentsize * phnum else { throw GuesthouseError.hypervisor("\(path): truncated ELF") }
        for i in 0..<phnum where int(i * phentsize, 4, in: table) == 3 /* PT_INTERP */ {
            throw GuesthouseError.hypervisor("\(path) is dynamically linked: install busybox-static "
                                             + "or set [containers] busybox to a static busybox")
        }
    }

    /// PID 1 of every container: sets eth0's MTU and the host name, says what it did on the console
    /// and in the console log, then waits for SIGTERM (libvirt's shutdown) and exits.
    static let initScript = #"""
    #!/bin/sh
    # Guesthouse container init (busybox). Environment from the domain: GH_NAME, GH_MTU.
    export PATH=/bin:/sbin:/usr/bin:/usr/sbin
    log() { echo "$(date '+%Y-%m-%dT%H:%M:%S') $*" | tee -a /var/log/console.log; }
    [ -n "$GH_NAME" ] && hostname "$GH_NAME"
    [ -n "$GH_MTU" ] && ip link set dev eth0 mtu "$GH_MTU"
    log "$GH_NAME started"
    ip -4 -o addr show dev eth0 2>&1 | while read -r line; do log "$line"; done
    ip link show dev eth0 2>&1 | head -1 | while read -r line; do log "$line"; done
    trap 'log "$GH_NAME stopping"; exit 0' TERM INT PWR
    while :; do
        sleep 3600 &
        wait $!
    done
    """# + "\n"
}
