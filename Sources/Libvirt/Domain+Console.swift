internal import CLibvirt

extension Domain {
    /// Opens the domain's first serial console (`<console>`/`<serial type='pty'>`) as a pipe read on
    /// libvirt's event loop.
    /// - Parameters:
    ///   - connection: the connection the domain came from (the stream is made on it).
    ///   - force: take over another session on the same console (where the driver can: not LXC);
    ///     without it, an open one is an error.
    /// - Throws: `LibvirtError` when the domain is not running, has no console, or the driver has none.
    public func openSerialConsole(on connection: Connection, force: Bool = true) throws -> ConsolePipe {
        guard let stream = virStreamNew(connection.pointer, UInt32(VIR_STREAM_NONBLOCK.rawValue)) else {
            throw LibvirtError.last("virStreamNew")
        }
        var result = virDomainOpenConsole(pointer, nil, stream, force ? UInt32(VIR_DOMAIN_CONSOLE_FORCE.rawValue) : 0)
        if result < 0, force {
            // Drivers without the flag (LXC) take the plain call.
            let error = LibvirtError.last("virDomainOpenConsole")
            if error.kind == .invalidArgument || error.kind == .unsupported {
                result = virDomainOpenConsole(pointer, nil, stream, 0)
            } else {
                virStreamFree(stream)
                throw error
            }
        }
        if result < 0 {
            let error = LibvirtError.last("virDomainOpenConsole")
            virStreamFree(stream)
            throw error
        }
        return try ConsolePipe.stream(stream)
    }

    /// Connects to the domain's first graphics server (VNC) through libvirt
    /// (`virDomainOpenGraphicsFD`, skipping the server's own authentication: the caller has
    /// authorised the user) and returns the socket as a pipe read on libvirt's event loop.
    /// - Throws: `LibvirtError` when the domain is not running, has no graphics, or the driver cannot.
    public func openGraphicsSocket() throws -> ConsolePipe {
        let fd = virDomainOpenGraphicsFD(pointer, 0, UInt32(VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH.rawValue))
        if fd < 0 { throw LibvirtError.last("virDomainOpenGraphicsFD") }
        return try ConsolePipe.socket(fd)
    }
}
