#if canImport(Glibc)
import Glibc
#endif

/// A local user the spool serves, from the password database.
public struct WirtUser: Sendable, Equatable, Hashable {
    public var name: String
    public var uid: uid_t
    public var gid: gid_t
    public var home: String

    public init(name: String, uid: uid_t, gid: gid_t, home: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
    }

    /// Looks a user up by name in the password database.
    public static func lookup(_ name: String) -> WirtUser? {
        var buffer = [CChar](repeating: 0, count: 16384)
        return buffer.withUnsafeMutableBufferPointer { buf -> WirtUser? in
            var pwd = passwd()
            var result: UnsafeMutablePointer<passwd>?
            guard getpwnam_r(name, &pwd, buf.baseAddress!, buf.count, &result) == 0, result != nil,
                  let dir = pwd.pw_dir else { return nil }
            return WirtUser(name: name, uid: pwd.pw_uid, gid: pwd.pw_gid, home: String(cString: dir))
        }
    }
}

/// Group membership, read from the group and password databases on every call (cheap; called per rescan).
enum WirtGroup {
    /// The group's gid and the names of its members (listed in the group, or having it as primary group).
    static func members(of group: String) -> (gid: gid_t, names: Set<String>)? {
        guard let found = lookup(group) else { return nil }
        let gid = found.gid
        var names = found.names
        // Users whose primary group it is. getpwent is not thread-safe: only the spool thread calls it.
        setpwent()
        while let entry = getpwent() {
            if entry.pointee.pw_gid == gid, let n = entry.pointee.pw_name { names.insert(String(cString: n)) }
        }
        endpwent()
        return (gid, names)
    }

    /// The group's gid and the members it lists (not those having it as primary group).
    static func lookup(_ group: String) -> (gid: gid_t, names: Set<String>)? {
        var buffer = [CChar](repeating: 0, count: 1 << 18)
        return buffer.withUnsafeMutableBufferPointer { buf -> (gid: gid_t, names: Set<String>)? in
            var grp = Glibc.group()
            var result: UnsafeMutablePointer<Glibc.group>?
            guard getgrnam_r(group, &grp, buf.baseAddress!, buf.count, &result) == 0, result != nil else { return nil }
            var names = Set<String>()
            if var member = grp.gr_mem {
                while let name = member.pointee {
                    names.insert(String(cString: name))
                    member += 1
                }
            }
            return (grp.gr_gid, names)
        }
    }
}
