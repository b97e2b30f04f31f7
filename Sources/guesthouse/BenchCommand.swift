import ArgumentParser

/// `guesthouse bench`: prints throughput and latency figures side by side.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Run the benchmark.")
    func run() async throws {}
}
