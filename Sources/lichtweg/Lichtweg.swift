import ArgumentParser

/// `lichtweg`: the lighting engineer's command-line tool.
@main
struct Lichtweg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lichtweg",
        abstract: "Smart street lighting for the roads between villages: check, preview and simulate dimming profiles.",
        subcommands: [ProfileCommand.self, SimCommand.self]
    )
}

struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Work with dimming profiles (Profiles/*.yaml).",
        subcommands: [ValidateCommand.self, PreviewCommand.self]
    )
}
