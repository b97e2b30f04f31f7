internal import CLibvirt

/// An error reported by libvirt, captured on the thread of the failing call, right after it.
public struct LibvirtError: Error, Sendable, CustomStringConvertible {
    /// libvirt's `virErrorNumber`.
    public let code: Int32
    /// libvirt's `virErrorDomain`: the subsystem that raised it.
    public let domain: Int32
    /// libvirt's own message, or a description of the call that failed without one.
    public let message: String

    public init(code: Int32, domain: Int32, message: String) {
        self.code = code
        self.domain = domain
        self.message = message
    }

    public var description: String { message }

    /// What kind of failure this is, for callers that map it onto their own errors.
    public var kind: Kind {
        switch UInt32(bitPattern: code) {
        case VIR_ERR_NO_DOMAIN.rawValue, VIR_ERR_NO_NETWORK.rawValue, VIR_ERR_NO_STORAGE_POOL.rawValue,
             VIR_ERR_NO_STORAGE_VOL.rawValue, VIR_ERR_NO_DOMAIN_SNAPSHOT.rawValue, VIR_ERR_NO_SECRET.rawValue,
             VIR_ERR_NO_DOMAIN_METADATA.rawValue, VIR_ERR_NO_INTERFACE.rawValue:
            return .notFound
        case VIR_ERR_NO_SUPPORT.rawValue, VIR_ERR_ARGUMENT_UNSUPPORTED.rawValue,
             VIR_ERR_OPERATION_UNSUPPORTED.rawValue:
            return .unsupported
        case VIR_ERR_OPERATION_INVALID.rawValue, VIR_ERR_OPERATION_DENIED.rawValue,
             VIR_ERR_DOM_EXIST.rawValue, VIR_ERR_NETWORK_EXIST.rawValue, VIR_ERR_STORAGE_VOL_EXIST.rawValue:
            return .conflict
        case VIR_ERR_XML_ERROR.rawValue, VIR_ERR_XML_DETAIL.rawValue, VIR_ERR_INVALID_ARG.rawValue,
             VIR_ERR_CONFIG_UNSUPPORTED.rawValue:
            return .invalidArgument
        case VIR_ERR_AUTH_FAILED.rawValue, VIR_ERR_AUTH_CANCELLED.rawValue, VIR_ERR_AUTH_UNAVAILABLE.rawValue:
            return .authentication
        case VIR_ERR_NO_CONNECT.rawValue, VIR_ERR_RPC.rawValue, VIR_ERR_SYSTEM_ERROR.rawValue,
             VIR_ERR_INVALID_CONN.rawValue, VIR_ERR_AGENT_UNRESPONSIVE.rawValue:
            return .unreachable
        default:
            return .other
        }
    }

    /// Whether libvirt refused to make something because one of that name exists already (a
    /// volume, domain or network): the atomic "claim" of a name lost to someone else.
    public var isAlreadyExists: Bool {
        switch UInt32(bitPattern: code) {
        case VIR_ERR_STORAGE_VOL_EXIST.rawValue, VIR_ERR_DOM_EXIST.rawValue, VIR_ERR_NETWORK_EXIST.rawValue: true
        default: false
        }
    }

    /// Broad classes of libvirt failures.
    public enum Kind: Sendable, Equatable {
        case notFound, unsupported, conflict, invalidArgument, authentication, unreachable, other
    }

    /// Reads and clears this thread's last libvirt error. Call it right after the call that failed.
    static func last(_ call: String) -> LibvirtError {
        guard let err = virGetLastError() else {
            return LibvirtError(code: -1, domain: 0, message: "\(call) failed")
        }
        let message = err.pointee.message.map { String(cString: $0) } ?? "\(call) failed"
        let error = LibvirtError(code: err.pointee.code, domain: err.pointee.domain, message: message)
        virResetLastError()
        return error
    }
}

/// Runs a libvirt call returning an int status; throws the captured libvirt error on `< 0`.
@discardableResult
@inline(__always)
func check(_ call: String, _ result: Int32) throws -> Int32 {
    if result < 0 { throw LibvirtError.last(call) }
    return result
}

/// Takes ownership of a libvirt-allocated C string (freed here) or throws the captured error.
@inline(__always)
func takeString(_ call: String, _ pointer: UnsafeMutablePointer<CChar>?) throws -> String {
    guard let pointer else { throw LibvirtError.last(call) }
    defer { free(pointer) }
    return String(cString: pointer)
}
