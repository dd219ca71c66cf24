/// One problem with a profile, located by the path of the field it concerns
/// (`programs.weeknight.steps[1].level`). The profile format layer adds file and line.
public struct ProfileIssue: Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}
