import ArgumentParser
import LightCore
import ProfileFormat

/// `lichtweg profile validate PATH...`
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check profiles; print one line per problem as PATH:LINE: field.path: what is wrong.",
        discussion: "Exit status 0 when every profile is valid, 1 otherwise. A directory stands for its *.yaml files."
    )

    @Argument(help: "Profile files or directories.")
    var paths: [String]

    @Flag(name: .shortAndLong, help: "Print only problems.")
    var quiet = false

    func run() throws {
        let files = ProfileFiles.expand(paths)
        if files.isEmpty { throw ValidationError("no profile files given") }
        var failed = 0
        for file in files {
            switch ProfileFiles.load(file) {
            case let .success(profile):
                if !quiet {
                    print("\(file): ok — route \(profile.route.id), \(profile.route.poles.count) poles, "
                        + "\(profile.programs.count) programs, version \(profile.version)")
                }
            case let .failure(problems):
                failed += 1
                for diagnostic in problems.diagnostics { print(diagnostic.description) }
            }
        }
        if failed > 0 {
            if !quiet { print("\(failed) of \(files.count) profiles have problems") }
            throw ExitCode(1)
        }
    }
}
