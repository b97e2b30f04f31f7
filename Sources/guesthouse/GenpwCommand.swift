import ArgumentParser
import HummingbirdBcrypt

/// `guesthouse genpw PASSWORD`: prints a bcrypt hash for a `[user.*]` block.
struct GenpwCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "genpw",
                                                    abstract: "Print a bcrypt hash of a password for [user.NAME] password.")

    @Argument(help: "The plain-text password.")
    var password: String

    @Option(help: "bcrypt cost (work factor), 4-31.")
    var cost: UInt8 = 10

    func validate() throws {
        guard (4...31).contains(cost) else { throw ValidationError("--cost must be between 4 and 31") }
    }

    func run() throws {
        print(Bcrypt.hash(password, cost: cost))
    }
}
