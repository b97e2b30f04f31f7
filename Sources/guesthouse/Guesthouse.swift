import ArgumentParser

/// The `guesthouse` command: thin, every subcommand calls into the library modules.
@main
struct Guesthouse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guesthouse",
        abstract: "Guests (VMs and containers) on many hypervisor hosts through libvirt.",
        version: GuesthouseVersion.current,
        subcommands: [ServeCommand.self, GenpwCommand.self, BenchCommand.self, SpoolCommand.self, WirtCLICommand.self,
                      BenchWirtCommand.self, BenchVmangoCommand.self, BenchRestartCommand.self, OverlayCommand.self, RootfsCommand.self,
                      BenchContainersCommand.self, ExportCommand.self, ImportCommand.self, ImageCommand.self,
                      ConfigCommand.self, TokenCommand.self, VolumeDownloadCommand.self],
        defaultSubcommand: ServeCommand.self)
}
