import ArgumentParser
import Foundation

/// `lichtweg`: the lighting engineer's command-line tool.
@main
struct Lichtweg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lichtweg",
        abstract: "Smart street lighting for the roads between villages: check, preview, simulate and sign dimming profiles.",
        subcommands: [ProfileCommand.self, SimCommand.self, KeyCommand.self]
    )

    /// Runs the command. A command line that cannot be parsed (an unknown option, a number that
    /// is not one, a missing argument) is bad input like any other: exit status 2, as the
    /// commands' own input checks use, not ArgumentParser's 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                printError(fullMessage(for: error))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Work with dimming profiles (Profiles/*.yaml).",
        subcommands: [ValidateCommand.self, PreviewCommand.self, SignCommand.self]
    )
}
