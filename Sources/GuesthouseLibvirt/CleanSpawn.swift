#if canImport(Glibc)
import Glibc
#endif

/// `posix_spawn` attributes for a child that starts clean: an empty signal mask and every signal
/// at its default action. (A server blocks SIGTERM and ignores SIGPIPE; a child started with
/// Foundation's `Process` would inherit both, and could neither be stopped nor notice a closed pipe.)
public enum CleanSpawn {
    /// Runs `body` with such attributes, destroyed afterwards.
    public static func withAttributes<T>(_ body: (inout posix_spawnattr_t) throws -> T) rethrows -> T {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        return try body(&attributes)
    }
}
