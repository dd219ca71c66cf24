/// A problem found in a profile file, located by file, line and field path, printed as
/// `PATH:LINE: field.path: what is wrong` — the form editors and CI logs turn into links.
public struct ProfileDiagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the problem has no place in the text (e.g. an empty file).
    public var line: Int?
    public var path: String
    public var message: String

    public init(file: String, line: Int?, path: String, message: String) {
        self.file = file
        self.line = line
        self.path = path
        self.message = message
    }

    public var description: String {
        "\(file):\(line.map(String.init) ?? "1"): \(path.isEmpty ? "(document)" : path): \(message)"
    }
}

/// All problems of one profile file.
public struct ProfileDiagnostics: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [ProfileDiagnostic]

    public init(_ diagnostics: [ProfileDiagnostic]) { self.diagnostics = diagnostics }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
