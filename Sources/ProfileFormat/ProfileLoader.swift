import LightCore
import Yams

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
            guard let node = try Yams.compose(yaml: text) else {
                return .failure(ProfileDiagnostics([
                    ProfileDiagnostic(file: file, line: 1, path: "", message: "the document is empty"),
                ]))
            }
            root = node
        } catch let error as YamlError {
            return .failure(ProfileDiagnostics([syntaxDiagnostic(error, file: file)]))
        } catch {
            return .failure(ProfileDiagnostics([
                ProfileDiagnostic(file: file, line: 1, path: "", message: "cannot read the document: \(error)"),
            ]))
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

    private static func syntaxDiagnostic(_ error: YamlError, file: String) -> ProfileDiagnostic {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let where_ = context.map { "\($0.text) " } ?? ""
            return ProfileDiagnostic(file: file, line: mark.line, path: "",
                                     message: "YAML syntax error: \(where_)\(problem)".replacingOccurrences(of: "  ", with: " "))
        case let .reader(problem, _, _, _):
            return ProfileDiagnostic(file: file, line: 1, path: "", message: "cannot read the text: \(problem)")
        default:
            return ProfileDiagnostic(file: file, line: 1, path: "", message: "YAML error: \(error)")
        }
    }
}
