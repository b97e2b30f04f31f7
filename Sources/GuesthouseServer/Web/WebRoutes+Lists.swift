import Foundation
import GuesthouseConfig
import GuesthouseCore
import Hummingbird

/// The list pages: provider status (with memory and storage meters), machines, images, and the
/// new machine form.
extension WebRoutes {
    func status(_ session: WebSession) async throws -> Response {
        let rows = await providers.eachProvider { try await providers.status(provider: $0) }.map { name, result in
            Self.row(name, result) { s -> [String: Any] in
                ["machines": s.machines, "running": s.runningMachines,
                 "memoryUsed": Self.bytes(s.memoryUsed), "memoryTotal": Self.bytes(s.memoryTotal),
                 "storageUsed": Self.bytes(s.storageUsed), "storageTotal": Self.bytes(s.storageTotal),
                 // `<meter>`s: their values are attributes, so no inline style is needed for a bar.
                 "memoryMeter": Self.meter(s.memoryUsed, s.memoryTotal), "storageMeter": Self.meter(s.storageUsed, s.storageTotal)]
            }
        }
        return html(WebPage(title: "Providers", body: WebTemplates.render("status", ["providers": rows]), session: session))
    }

    func machineList(_ session: WebSession) async throws -> Response {
        let rows = await providers.eachProvider { try await providers.machines(provider: $0) }.map { name, result in
            Self.row(name, result) { machines -> [String: Any] in
                ["machines": machines.map { machine -> [String: Any] in
                    var row = Self.dictionary(machine)
                    row["provider"] = name
                    row["memory"] = Self.bytes(machine.memory)
                    return row
                }]
            }
        }
        return html(WebPage(title: "Machines", body: WebTemplates.render("machines", ["providers": rows]), session: session))
    }

    /// A `<meter>`'s values: bytes in MiB (small enough for any attribute), the maximum at least 1.
    static func meter(_ used: UInt64, _ total: UInt64) -> [String: Any] {
        let mib: UInt64 = 1 << 20
        let max = Swift.max(total / mib, 1)
        return ["value": Swift.min(used / mib, max), "max": max, "high": max * 9 / 10]
    }

    /// A provider's row of a page: its name and what `fields` makes of its answer, or its error.
    static func row<T>(_ name: String, _ result: Result<T, any Error>, _ fields: (T) -> [String: Any]) -> [String: Any] {
        switch result {
        case .success(let value): fields(value).merging(["name": name]) { a, _ in a }
        case .failure(let error): ["name": name, "error": message(error)]
        }
    }

    func addForm(_ session: WebSession, fields: FormFields?, error: String?) async throws -> Response {
        var images: [[String: Any]] = []
        for name in providers.providerNames {
            for image in (try? await providers.images(provider: name)) ?? [] {
                var row = Self.dictionary(image)
                row["provider"] = name
                images.append(row)
            }
        }
        let plans = config.plans.values.sorted { $0.name < $1.name }.map {
            ["name": $0.name, "memory": $0.memoryMiB, "cpus": $0.cpus, "disk": $0.diskSizeGiB] as [String: Any]
        }
        let keys = config.sshKeys.keys.sorted().enumerated().map { ["name": $1, "id": "key-\($0)"] }
        return html(WebPage(title: "New machine", error: error, body: WebTemplates.render("add", [
            "csrf": session.csrf, "providers": providers.providerNames, "plans": plans, "images": images, "keys": keys,
            "form": ["Name": fields?.first("Name") ?? "", "Userdata": fields?.first("Userdata") ?? ""],
        ]), session: session), status: error == nil ? .ok : .badRequest)
    }

    func add(_ session: WebSession, _ fields: FormFields) async throws -> Response {
        do {
            let (provider, request) = try MachineForm.request(fields, config: config, creator: session.user,
                                                              providers: providers.providerNames)
            let machine = try await providers.create(provider: provider, request)
            return redirect("/machines/\(provider)/\(machine.id)/")
        } catch let error as GuesthouseError {
            return try await addForm(session, fields: fields, error: error.message)
        }
    }

    func imageList(_ session: WebSession) async throws -> Response {
        let rows = await providers.eachProvider { try await providers.images(provider: $0) }.map { name, result in
            Self.row(name, result) { images -> [String: Any] in
                ["images": images.map { image -> [String: Any] in
                    var row = Self.dictionary(image)
                    row["format"] = image.format.name
                    row["size"] = Self.bytes(image.size)
                    return row
                }]
            }
        }
        return html(WebPage(title: "Images", body: WebTemplates.render("images", ["providers": rows]), session: session))
    }

}
