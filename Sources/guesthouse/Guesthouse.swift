import ArgumentParser
import GuesthouseCore

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

    /// Sets glibc's allocator up while this is the only thread (see `HeapTuning`), then runs the
    /// command line as ArgumentParser's `main` does.
    static func main() async {
        HeapTuning.configureForServer()
        await main(nil)
    }
}
