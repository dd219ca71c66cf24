import LightCore

/// Reads profile documents (YAML, or JSON, which is YAML too) and checks them completely: syntax,
/// structure and types, ranges, and `LightCore`'s semantic rules. Every problem is reported with
/// the file, the line and the field path.
///
/// The loader does no file I/O; callers pass the text and the name to report.
public enum ProfileLoader {
    /// The profile in `text`, or every problem found in it.
    public static func load(_ text: String, file: String) -> Result<Profile, ProfileDiagnostics> {
        let root: Node
        do {
            guard let node = try YAMLComposer.compose(text) else {
                return .failure(ProfileDiagnostics([
                    ProfileDiagnostic(file: file, line: 1, path: "", message: "the document is empty"),
                ]))
            }
            root = node
        } catch {
            return .failure(ProfileDiagnostics([syntaxDiagnostic(error, file: file, text: text)]))
        }

        let reader = NodeReader()
        let decoded = ProfileDecoder(reader: reader).profile(root)
        var diagnostics = reader.issues.map {
            ProfileDiagnostic(file: file, line: $0.line, path: $0.path, message: $0.message)
        }
        if let decoded {
            // Semantic rules only make sense on a structurally sound document.
            diagnostics += ProfileValidator.issues(in: decoded).map {
                ProfileDiagnostic(file: file, line: reader.line(for: $0.path), path: $0.path, message: $0.message)
            }
        }
        diagnostics.sort { ($0.line ?? 0, $0.path) < ($1.line ?? 0, $1.path) }
        if let decoded, diagnostics.isEmpty { return .success(decoded) }
        if diagnostics.isEmpty {
            // Defensive: a decoder that failed must have said why.
            diagnostics = [ProfileDiagnostic(file: file, line: 1, path: "", message: "the profile could not be read")]
        }
        return .failure(ProfileDiagnostics(diagnostics))
    }

    // MARK: - Syntax errors

    /// The diagnostic for a YAML error in `text`. libyaml places an error at the end of the input
    /// on the line after the last one when the text does not end with a line break (found by
    /// fuzzing): the line named is then the last line, which is where the problem is.
    package static func syntaxDiagnostic(_ error: YAMLError, file: String, text: String) -> ProfileDiagnostic {
        var diagnostic = syntaxDiagnostic(error, file: file)
        if let line = diagnostic.line { diagnostic.line = min(line, lineCount(text)) }
        return diagnostic
    }

    /// Lines as YAML counts them: CR LF, CR, LF, NEL, LS and PS each end one.
    package static func lineCount(_ text: String) -> Int {
        var lines = 1
        var previousCR = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\r", "\u{85}", "\u{2028}", "\u{2029}": lines += 1
            case "\n": if !previousCR { lines += 1 }
            default: break
            }
            previousCR = scalar == "\r"
        }
        return lines
    }

    private static func syntaxDiagnostic(_ error: YAMLError, file: String) -> ProfileDiagnostic {
        switch error.stage {
        case .reader:
            return ProfileDiagnostic(file: file, line: error.mark.line, path: "", message: "cannot read the text: \(error.problem)")
        case .scanner, .parser, .composer:
            let words = ((error.context.map { [$0] } ?? []) + [error.problem]).joined(separator: " ")
            // libyaml's texts sometimes end or start with a space.
            let message = words.split(separator: " ").joined(separator: " ")
            return ProfileDiagnostic(file: file, line: error.mark.line, path: "", message: "YAML syntax error: \(message)")
        }
    }
}
