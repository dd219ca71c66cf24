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
            guard let node = try composeMarkingDuplicates(text) else {
                return .failure(ProfileDiagnostics([
                    ProfileDiagnostic(file: file, line: 1, path: "", message: "the document is empty"),
                ]))
            }
            root = node
        } catch let error as YamlError {
            return .failure(ProfileDiagnostics([syntaxDiagnostic(error, file: file, text: text)]))
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

    // MARK: - Duplicate keys

    /// Marks a repeated key so that `NodeReader` can report it with its line and field path.
    static let duplicateMarker = "__lichtweg_duplicate_key__"

    /// Composes the document. Yams refuses a mapping with a repeated key as a whole, naming only
    /// the first occurrence; the repeated occurrence is renamed with `duplicateMarker` and the
    /// document composed again, so the reader can locate every repetition precisely.
    package static func composeMarkingDuplicates(_ original: String) throws -> Node? {
        var text = original
        for _ in 0..<100 {
            do {
                return try Yams.compose(yaml: text)
            } catch let YamlError.duplicatedKeysInMapping(keys, context) {
                guard let key = keys.first, let marked = markRepetition(of: key, after: context.mark, in: text) else {
                    throw YamlError.duplicatedKeysInMapping(duplicates: keys, context: context)
                }
                text = marked
            }
        }
        return try Yams.compose(yaml: text)
    }

    /// The text with the next occurrence of `key` after its first one (at `mark`) renamed:
    /// on the same line for flow mappings, else the next line with the key at the same column.
    private static func markRepetition(of key: String, after mark: Mark, in text: String) -> String? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = mark.line - 1
        guard first >= 0, first < lines.count else { return nil }
        let keyPattern = { (s: Substring) -> Bool in
            guard s.hasPrefix(key) else { return false }
            let rest = s.dropFirst(key.count).drop { $0 == " " }
            return rest.hasPrefix(":")
        }
        func rename(_ line: Int, at index: String.Index) {
            var l = lines[line]
            l.replaceSubrange(index..<l.index(index, offsetBy: key.count), with: key + duplicateMarker)
            lines[line] = l
        }
        // Same line, after the first occurrence (flow style: `{a: 1, a: 2}`).
        let firstLine = lines[first]
        let startColumn = min(firstLine.count, max(0, mark.column - 1) + key.count)
        var i = firstLine.index(firstLine.startIndex, offsetBy: startColumn)
        while i < firstLine.endIndex {
            let before = i > firstLine.startIndex ? firstLine[firstLine.index(before: i)] : " "
            if (before == " " || before == "," || before == "{") && keyPattern(firstLine[i...]) {
                rename(first, at: i)
                return lines.joined(separator: "\n")
            }
            i = firstLine.index(after: i)
        }
        // Later lines, the key at the same column (block style).
        let column = max(0, mark.column - 1)
        for n in (first + 1)..<lines.count {
            let l = lines[n]
            guard l.count > column else { continue }
            let index = l.index(l.startIndex, offsetBy: column)
            let indent = l[..<index]
            if indent.allSatisfy({ $0 == " " || $0 == "-" }) && keyPattern(l[index...]) {
                rename(n, at: index)
                return lines.joined(separator: "\n")
            }
        }
        return nil
    }

    /// The diagnostic for a YAML error in `text`. libyaml places an error at the end of the input
    /// on the line after the last one when the text does not end with a line break (found by
    /// fuzzing): the line named is then the last line, which is where the problem is.
    package static func syntaxDiagnostic(_ error: YamlError, file: String, text: String) -> ProfileDiagnostic {
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

    private static func syntaxDiagnostic(_ error: YamlError, file: String) -> ProfileDiagnostic {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let where_ = context.map { "\($0.text) " } ?? ""
            return ProfileDiagnostic(file: file, line: mark.line, path: "",
                                     message: "YAML syntax error: \(where_)\(problem)".replacingOccurrences(of: "  ", with: " "))
        case let .reader(problem, _, _, _):
            return ProfileDiagnostic(file: file, line: 1, path: "", message: "cannot read the text: \(problem)")
        case let .duplicatedKeysInMapping(keys, context):
            let names = keys.map { "'\($0)'" }.joined(separator: ", ")
            return ProfileDiagnostic(file: file, line: context.mark.line, path: "",
                                     message: "duplicate key \(names): a key may appear only once in a mapping")
        default:
            let text = "\(error)".split(separator: "\n").first.map(String.init) ?? "unknown problem"
            return ProfileDiagnostic(file: file, line: 1, path: "", message: "YAML error: \(text)")
        }
    }
}
