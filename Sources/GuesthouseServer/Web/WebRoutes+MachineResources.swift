import Foundation
import GuesthouseCore
import Hummingbird

/// The machine page's forms over the provider's hypervisor (the calls the Simplestack routes make):
/// snapshots (take, revert, delete), disks (add, grow), media (insert, eject) and clone. A bad value
/// comes back as the machine page with the message beside its field and a 4xx status; revert,
/// delete and eject ask for confirmation first.
extension WebRoutes {
    func registerMachineResources(_ on: On) {
        machineForm(on, "snapshots/", field: "snapshotName") { s, f, machine, hv, base in
            let name = f.fields.first("name").map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            _ = try await hv.createSnapshot(guestID: machine.id, name: name.isEmpty ? nil : name)
            return nil
        }
        machineForm(on, "snapshots/:name/revert/", field: "snapshots") { s, f, machine, hv, base in
            let name = try f.parameter("name")
            if let confirm = confirmation(s, f.fields, question: "Revert machine \(machine.name) to snapshot \(name)? "
                                          + "Changes since the snapshot are lost.", button: "Revert",
                                          action: base + "snapshots/\(Self.segment(name))/revert/", back: base) { return confirm }
            try await hv.revertSnapshot(guestID: machine.id, name: name)
            return nil
        }
        machineForm(on, "snapshots/:name/delete/", field: "snapshots") { s, f, machine, hv, base in
            let name = try f.parameter("name")
            if let confirm = confirmation(s, f.fields, question: "Delete snapshot \(name) of machine \(machine.name)?",
                                          button: "Delete", action: base + "snapshots/\(Self.segment(name))/delete/",
                                          back: base) { return confirm }
            try await hv.deleteSnapshot(guestID: machine.id, name: name)
            return nil
        }
        machineForm(on, "disks/", field: "diskSize") { s, f, machine, hv, base in
            let size = try Self.gibibytes(f.fields.first("size"), field: "diskSize")
            let pool = f.fields.first("pool").flatMap { $0.isEmpty ? nil : $0 }
            do {
                _ = try await hv.createDisk(guestID: machine.id, DiskSpec(sizeGiB: size, pool: pool))
            } catch let error as GuesthouseError where error.kind == .entityNotFound && pool != nil {
                throw FieldError(field: "diskPool", error: error)
            }
            return nil
        }
        machineForm(on, "disks/resize/", field: "resizeSize") { s, f, machine, hv, base in
            let size = try Self.gibibytes(f.fields.first("size"), field: "resizeSize")
            let disk = f.fields.first("disk") ?? ""
            _ = try await hv.updateDisk(guestID: machine.id, diskID: disk, sizeGiB: size, name: nil)
            return nil
        }
        machineForm(on, "media/insert/", field: "mediaImage") { s, f, machine, hv, base in
            guard let image = f.fields.first("image"), !image.isEmpty else {
                throw GuesthouseError.invalid("choose an ISO image to insert")
            }
            _ = try await hv.setMediaDevice(guestID: machine.id, name: image)
            return nil
        }
        machineForm(on, "media/eject/", field: "mediaImage") { s, f, machine, hv, base in
            if let confirm = confirmation(s, f.fields, question: "Eject the CD-ROM of machine \(machine.name)?",
                                          button: "Eject", action: base + "media/eject/", back: base) { return confirm }
            _ = try await hv.setMediaDevice(guestID: machine.id, name: nil)
            return nil
        }
        machineForm(on, "clone/", field: "cloneName") { s, f, machine, hv, base in
            let name = f.fields.first("clone")?.trimmingCharacters(in: .whitespaces) ?? ""
            try Validation.name(name, field: "the clone's name")
            let clone = try await hv.cloneGuest(guestID: machine.id, name: name)
            let id = clone.id.replacingOccurrences(of: "-", with: "").lowercased()
            return redirect("/machines/\(Self.segment(f.provider))/\(Self.segment(id))/")
        }
    }

    /// A form's fields and the path's parameters.
    struct PostedForm {
        var fields: FormFields
        var provider: String
        var context: GuesthouseContext

        func parameter(_ name: String) throws -> String { try context.parameters.require(name) }
    }

    /// A problem that belongs to another field than the form's first.
    struct FieldError: Error {
        var field: String
        var error: GuesthouseError
    }

    /// Registers `POST /machines/{provider}/{id}/<path>`: finds the machine (`lookUpMachine`), runs
    /// `body`, and redirects back to the machine page, or to where `body`'s answer says. A 4xx is
    /// the page again with the message beside `field`.
    func machineForm(_ on: On, _ path: String, field: String,
                     _ body: @escaping @Sendable (WebSession, PostedForm, Machine, any MachineHypervisor, String)
                        async throws -> Response?) {
        on(.post, "/machines/:provider/:id/" + path) { request, context in
            try await page(request, post: true) { session, fields in
                let (provider, id) = try Self.machinePath(context)
                let machine = try await lookUpMachine(session, provider: provider, id: id)
                let hypervisor = try machineHypervisor(provider)
                let base = "/machines/\(Self.segment(provider))/\(Self.segment(machine.id))/"
                let problem: (field: String, error: GuesthouseError)
                do {
                    let form = PostedForm(fields: fields, provider: provider, context: context)
                    return try await body(session, form, machine, hypervisor, base) ?? redirect(base)
                } catch let error as FieldError where error.error.httpStatus < 500 {
                    problem = (error.field, error.error)
                } catch let error as GuesthouseError where error.httpStatus < 500 {
                    problem = (field, error)
                }
                RequestOrigin.current?.note(error: problem.error)
                return try await machinePage(session, provider: provider, id: machine.id, form: fields,
                                             problem: FieldProblem(field: problem.field, message: problem.error.message,
                                                                   status: problem.error.httpStatus))
            }
        }
    }

    /// A size in GiB from a form: a whole number from 1 to 65536.
    static func gibibytes(_ text: String?, field: String) throws -> Int {
        let trimmed = text?.trimmingCharacters(in: .whitespaces) ?? ""
        guard let value = Int(trimmed), (1...65536).contains(value) else {
            throw FieldError(field: field, error: .invalid("the size must be a whole number of GiB from 1 to 65536"))
        }
        return value
    }
}
