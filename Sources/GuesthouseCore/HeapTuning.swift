#if canImport(Glibc)
import Glibc
#endif

/// glibc's allocator, set up for a long-running server: few arenas, and freed memory handed back to
/// the kernel after a large transient phase.
///
/// Measured with `guesthouse bench` (1,000 guests on libvirt's test driver): the heap held about
/// 10 MB in use in 21 MB of arenas after the load; the free rest was the residue of reading every
/// domain (libvirt's parse of its XML, ours of each domain's XML) and of 200 KB list answers.
///
/// Not set, on purpose: a fixed `M_MMAP_THRESHOLD` (128 KiB saved about 2 MiB in the bench by
/// mapping each list answer on its own), because every 1 MiB transfer chunk would then be a fresh
/// mapping: 500 µs per filled MiB instead of 16-20 µs on this machine's kernel.
public enum HeapTuning {
    /// Limits glibc to two arenas.
    ///
    /// Call it first thing in `main`, before any other thread allocates: glibc fixes its arena limit
    /// the first time a thread needs a new arena, and every thread that allocated before that keeps
    /// an arena of its own (`serve` had four when this ran at the start of `serve`).
    /// - Returns: whether glibc took the setting.
    @discardableResult
    public static func configureForServer() -> Bool {
        #if canImport(Glibc)
        return glibc("mallopt", as: (@convention(c) (Int32, Int32) -> Int32).self)?(-8 /* M_ARENA_MAX */, 2) == 1
        #else
        return false
        #endif
    }

    /// Returns the free pages inside glibc's arenas to the kernel (`malloc_trim(0)`): only memory
    /// already freed, never a mapped file. Costs a walk of the free lists (a few milliseconds for
    /// tens of MB): call it after a large transient phase, not per request.
    public static func releaseFreeMemory() {
        #if canImport(Glibc)
        _ = glibc("malloc_trim", as: (@convention(c) (Int) -> Int32).self)?(0)
        #endif
    }
}

#if canImport(Glibc)
/// A glibc function found by name, called through its C signature: `<malloc.h>` is not part of
/// Swift's Glibc module. Nil when the C library has no such function.
private func glibc<Function>(_ name: String, as type: Function.Type) -> Function? {
    guard let symbol = dlsym(nil /* RTLD_DEFAULT */, name) else { return nil }
    return unsafeBitCast(symbol, to: type)
}
#endif
