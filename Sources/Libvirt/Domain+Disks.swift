internal import CLibvirt

extension Domain {
    /// Resizes a disk of a running domain (`target` is its device name, e.g. "vda") to `bytes`;
    /// the guest sees the new size at once.
    public func blockResize(target: String, bytes: UInt64) throws {
        try check("virDomainBlockResize",
                  virDomainBlockResize(pointer, target, bytes, VIR_DOMAIN_BLOCK_RESIZE_BYTES.rawValue))
    }
}
