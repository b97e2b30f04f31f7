import Foundation
import GuesthouseConfig
import GuesthouseCore
import GuesthouseLibvirt
import Libvirt
import Logging

/// Every configured `[hypervisor.*]` provider, over the shared connection pool.
public struct LibvirtMachineProviders: MachineProviders {
    let providers: [String: LibvirtMachineProvider]

    /// - Parameters:
    ///   - baseDirectory: where relative `vm_template` / `volume_template` paths start (the config
    ///     file's directory).
    ///   - operationTimeout: seconds one provider call may take before it answers 502 (creates
    ///     included: the work itself always runs to its end or its rollback).
    /// - Throws: `GuesthouseError.invalidArguments` when a template cannot be read.
    public init(config: Config, pool: ConnectionPool, executor: LibvirtExecutor, logger: Logger,
                baseDirectory: String = FileManager.default.currentDirectoryPath,
                operationTimeout: Double = 300) throws {
        let families = Family.table(config: config)
        var providers: [String: LibvirtMachineProvider] = [:]
        for (name, settings) in config.hypervisors {
            func path(_ file: String?) -> String? {
                file.map { $0.hasPrefix("/") ? $0 : baseDirectory + "/" + $0 }
            }
            let templates = try MachineTemplates(domainFile: path(settings.vmTemplate),
                                                 volumeFile: path(settings.volumeTemplate))
            let family = Self.family(uri: settings.url, table: families)
            let hypervisor = LibvirtHypervisor(pool: pool, executor: executor, uri: settings.url, family: family.name,
                                               domainType: family.domainType, hostName: name,
                                               operationTimeout: operationTimeout)
            providers[name] = LibvirtMachineProvider(settings: settings, hypervisor: hypervisor, templates: templates,
                                                     logger: logger)
        }
        self.providers = providers
    }

    /// The family a libvirt URI belongs to (for new machines' domain type).
    static func family(uri: String, table: [String: Family]) -> Family {
        let scheme = uri.prefix { $0 != ":" && $0 != "+" }.lowercased()
        let alias = switch scheme {
        case "qemu": "kvm"
        case "esx", "gsx", "vpx": "vmware"
        default: scheme
        }
        return table[alias] ?? table["kvm"]!
    }

    public var providerNames: [String] { providers.keys.sorted() }

    func provider(_ name: String) throws -> LibvirtMachineProvider {
        guard let provider = providers[name] else { throw GuesthouseError.unknownProvider(name) }
        return provider
    }

    public func machines(provider: String) async throws -> [Machine] { try await self.provider(provider).machines() }

    public func machine(provider: String, id: String) async throws -> Machine {
        try await self.provider(provider).machine(id: id)
    }

    public func images(provider: String) async throws -> [MachineImage] { try await self.provider(provider).images() }

    public func create(provider: String, _ request: MachineRequest) async throws -> Machine {
        try await self.provider(provider).create(request)
    }

    public func delete(provider: String, id: String) async throws { try await self.provider(provider).delete(id: id) }

    public func perform(_ action: MachineAction, provider: String, id: String) async throws {
        try await self.provider(provider).perform(action, id: id)
    }

    public func status(provider: String) async throws -> ProviderStatus { try await self.provider(provider).status() }
}
