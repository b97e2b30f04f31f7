import GuesthouseCore
import GuesthouseLibvirt

extension LibvirtMachineProviders: MachineImageUploads {
    public func imageUploadTarget(provider name: String) throws -> (volumes: any ImageVolumes, pool: String) {
        let provider = try self.provider(name)
        guard let pool = provider.settings.imageStoragePool else {
            throw GuesthouseError.invalid("provider \"\(name)\" has no image_storage_pool")
        }
        return (provider.hypervisor, pool)
    }
}
