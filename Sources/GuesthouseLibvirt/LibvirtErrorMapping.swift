import GuesthouseCore
import Libvirt

/// Maps libvirt's errors onto Guesthouse's error classes.
enum LibvirtErrorMapping {
    static func map(_ error: any Error, operation: String, family: String? = nil) -> any Error {
        guard let error = error as? LibvirtError else { return error }
        // A pool without room is the client's to fix (a smaller disk, another pool): 409, not 502.
        if PoolRoom.isOutOfSpace(error) { return GuesthouseError.conflict("\(operation): \(error.message)") }
        // More CPUs than this host's driver allows (test driver: "exceeds maximum supported amount",
        // qemu: "greater than max allowable vcpus"): the host's limit, as a full pool is.
        if error.kind == .invalidArgument,
           error.message.contains("exceeds maximum supported") || error.message.contains("greater than max allowable") {
            return GuesthouseError.conflict("\(operation): \(error.message)")
        }
        switch error.kind {
        case .notFound: return GuesthouseError.notFound(error.message)
        case .unsupported:
            let on = family.map { " on the \($0) family" } ?? ""
            return GuesthouseError.notImplemented("\(operation) is not supported\(on): \(error.message)")
        case .conflict: return GuesthouseError.conflict(error.message)
        case .invalidArgument: return GuesthouseError.invalid(error.message)
        case .authentication: return GuesthouseError(.unauthorized, "the hypervisor refused the credentials")
        case .unreachable, .other: return GuesthouseError.hypervisor("\(operation): \(error.message)")
        }
    }

    /// Maps a failed open of `uri`: a missing driver is a 501 naming the family and its package
    /// (`MissingDriver`); everything else as `map`.
    static func mapConnect(_ error: any Error, uri: String) -> any Error {
        if let error = error as? LibvirtError, let missing = MissingDriver.error(error, uri: uri) { return missing }
        return map(error, operation: "connect to \(uri)")
    }
}
