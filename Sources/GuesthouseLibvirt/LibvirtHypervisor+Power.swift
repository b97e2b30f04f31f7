import GuesthouseCore
import Libvirt

extension LibvirtHypervisor {
    /// Changes the power state. A graceful `stop` asks the guest to shut down (ACPI) and then waits
    /// until it is off, reading its state in short hops with async pauses between them (no executor
    /// thread is held while waiting); when it is still running after `stopTimeout` seconds (nil: the
    /// server's `[server] stop_timeout`) it throws `operationNotAllowed` naming the timeout and
    /// `force_stop`. Every other action returns when libvirt has done it.
    public func power(id: String, _ action: PowerAction, stopTimeout: Double?) async throws {
        let (uuid, name) = try await withConnection("power \(action.rawValue)") { conn -> (String, String) in
            let domain = try Self.lookup(conn, id: id)
            let state = Self.guestState(try domain.state())
            if let refusal = Self.refusal(of: action, in: state, name: domain.name) { throw refusal }
            switch action {
            case .start: try domain.start()
            case .stop: try domain.shutdown()
            case .forceStop: try domain.destroy()
            case .pause: try domain.suspend()
            case .resume: try domain.resume()
            }
            return (domain.uuid, domain.name)
        }
        guard action == .stop else { return }
        let seconds = stopTimeout ?? self.stopTimeout
        try await waitUntilOff(uuid: uuid, name: name, seconds: seconds)
    }

    /// Waits until the domain `uuid` is off (or gone), or throws `operationNotAllowed` after `seconds`.
    func waitUntilOff(uuid: String, name: String, seconds: Double) async throws {
        let off = try await Polling.until(deadline: .now + .milliseconds(Int64(seconds * 1000))) {
            try await withConnection("stop \(name)") { conn in
                do {
                    return Self.guestState(try conn.domain(uuid: uuid).state()) == .stopped
                } catch let error as LibvirtError where error.kind == .notFound {
                    return true  // a transient guest is gone once it is off
                }
            }
        }
        if !off { throw Self.stillRunning(name: name, seconds: seconds) }
    }

    /// The answer to a graceful stop that did not finish in time.
    public static func stillRunning(name: String, seconds: Double) -> GuesthouseError {
        .conflict("guest '\(name)' did not shut down within \(Self.format(seconds: seconds)) s (it may ignore the ACPI "
                  + "power button) and is still running; use force_stop to power it off")
    }

    static func format(seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
