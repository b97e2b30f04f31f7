import Foundation
import GuesthouseCore
import Hummingbird

/// Exports and clones as operations (`Prefer: respond-async`); imports are in SimplestackRoutes+Images.
extension SimplestackRoutes {
    /// Spools the export's archive into the operation's scratch directory while the operation
    /// runs (the client need not stay connected); `GET /operations/{id}/result` streams it once
    /// ready. The archive takes its full length on the server's disk until the operation is
    /// deleted or expires.
    func exportAsync(_ archive: GuestExport, _ request: Request) async throws -> Response {
        let scratch = try ScratchDirectory(label: "guesthouse-export")
        let file = scratch.file("archive.tar")
        do {
            return try await AsyncPreference.start(operations, request: request, kind: "export", total: archive.length,
                                                   scratch: scratch) { progress in
                guard FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o600]),
                      let handle = FileHandle(forWritingAtPath: file) else {
                    throw GuesthouseError(.internalError, "cannot write the export's archive")
                }
                let box = SpooledBody.HandleBox(handle)
                try await archive.write { chunk in
                    try Task.checkCancellation()
                    try box.handle.write(contentsOf: chunk)
                    progress.add(chunk.count)
                }
                return OperationOutcome(file: file, fileName: "\(archive.name).tar")
            }
        } catch {
            scratch.remove()
            throw error
        }
    }

    /// Runs a clone as an operation (no byte counts: libvirt copies the disks in one call); a
    /// cancel that comes too late to stop it deletes the clone.
    func cloneAsync(_ hv: any GuestCloning, _ request: Request, _ context: GuesthouseContext, name: String) async throws -> Response {
        let source = try guestID(context)
        let base = base(context)
        let deleter = hv as? any Hypervisor
        return try await AsyncPreference.start(operations, request: request, kind: "clone") { _ in
            // Not cancelled half-way: a clone libvirt made after we gave up would be left behind.
            let guest = try await Task { try await hv.cloneGuest(guestID: source, name: name) }.value
            return OperationOutcome(location: "\(base)/guests/\(guest.id)",
                                    undo: { try? await deleter?.deleteGuest(id: guest.id) })
        }
    }
}
