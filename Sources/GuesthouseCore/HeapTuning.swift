/// glibc's allocator, set up for a long-running server: few arenas, large blocks in mappings of
/// their own, and freed memory handed back to the kernel after a large transient phase.
///
/// Measured with `guesthouse bench` (1,000 guests on libvirt's test driver): the heap held about
/// 10 MB in use in 21 MB of arenas after the load; the free rest was the residue of reading every
/// domain (libvirt's parse of its XML, ours of each domain's XML) and of 200 KB list answers.
public enum HeapTuning {
    /// Limits glibc to two arenas and serves blocks of 128 KiB and more from their own mappings.
    ///
    /// Call it first thing in `main`, before any other thread allocates: glibc fixes its arena limit
    /// the first time a thread needs a new arena, and every thread that allocated before that keeps
    /// an arena of its own (`serve` had four). A fixed mapping threshold also stops glibc from
    /// raising the threshold after the first large free, which leaves each later large answer in
    /// an arena where its freed pages stay resident.
    public static func configureForServer() {
        #if canImport(Glibc)
        _ = glibcMallopt(-8 /* M_ARENA_MAX */, 2)
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 128 * 1024)
        #endif
    }

    /// Returns the free pages inside glibc's arenas to the kernel (`malloc_trim(0)`): only memory
    /// already freed, never a mapped file. Costs a walk of the free lists (a few milliseconds for
    /// tens of MB): call it after a large transient phase, not per request.
    public static func releaseFreeMemory() {
        #if canImport(Glibc)
        _ = glibcMallocTrim(0)
        #endif
    }
}

#if canImport(Glibc)
// Declared in <malloc.h>, which Swift's Glibc module does not export.
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
#endif
