#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The domains one write operation looked up or read back, recorded on the worker thread that runs
/// it, so that the host's view can re-read exactly those before the operation answers.
final class TouchedDomains {
    private(set) var uuids: Set<String> = []

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Notes `uuid` for the write running on this thread, if any.
    static func record(_ uuid: String) {
        guard !uuid.isEmpty, let current = pthread_getspecific(key) else { return }
        Unmanaged<TouchedDomains>.fromOpaque(current).takeUnretainedValue().uuids.insert(uuid.lowercased())
    }

    /// Runs `body` (synchronously, on this thread) recording the domains it touches.
    func recording<T>(_ body: () throws -> T) rethrows -> T {
        let previous = pthread_getspecific(Self.key)
        pthread_setspecific(Self.key, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(Self.key, previous) }
        return try body()
    }
}
