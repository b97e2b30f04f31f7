import GuesthouseCore

/// No providers configured: the vmango routes answer empty lists and `provider "x" not found`.
struct NoMachineProviders: MachineProviders {
    var providerNames: [String] { [] }
    func machines(provider: String) async throws -> [Machine] { throw GuesthouseError.unknownProvider(provider) }
    func machine(provider: String, id: String) async throws -> Machine { throw GuesthouseError.unknownProvider(provider) }
    func images(provider: String) async throws -> [MachineImage] { throw GuesthouseError.unknownProvider(provider) }
    func create(provider: String, _ request: MachineRequest) async throws -> Machine {
        throw GuesthouseError.unknownProvider(provider)
    }
    func delete(provider: String, id: String) async throws { throw GuesthouseError.unknownProvider(provider) }
    func perform(_ action: MachineAction, provider: String, id: String) async throws {
        throw GuesthouseError.unknownProvider(provider)
    }
    func status(provider: String) async throws -> ProviderStatus { throw GuesthouseError.unknownProvider(provider) }
}
