import LightCore

/// Walks a composed YAML tree field by field, checking each field's type and range and
/// remembering on which line every field path was written, so that later semantic errors can be
/// reported at the right line too.
///
/// It collects every problem instead of stopping at the first: an engineer fixes a file in one go.
package final class NodeReader {
    package init() {}

    package private(set) var issues: [(line: Int?, path: String, message: String)] = []
    /// Field path → line of its value (or of its key, for a missing or unknown value).
    package private(set) var lines: [String: Int] = [:]

    package func report(_ node: Node?, _ path: String, _ message: String) {
        issues.append((node?.mark?.line, path, message))
    }

    package func report(line: Int?, _ path: String, _ message: String) {
        issues.append((line, path, message))
    }

    private func remember(_ node: Node, _ path: String) {
        if let line = node.mark?.line, lines[path] == nil { lines[path] = line }
    }

    /// The line of `path` or of its nearest parent that was seen.
    package func line(for path: String) -> Int? {
        var p = Substring(path)
        while true {
            if let line = lines[String(p)] { return line }
            guard let cut = p.lastIndex(where: { $0 == "." || $0 == "[" }) else { return nil }
            p = p[..<cut]
        }
    }

    // MARK: - Structure

    /// The fields of a mapping. Unknown keys, duplicate keys and missing required keys are
    /// reported; returns nil if `node` is not a mapping.
    package func fields(_ node: Node, _ path: String, required: [String], optional: [String] = []) -> [String: Node]? {
        let known = Set(required + optional)
        guard let entries = uniqueEntries(node, path, expected: "a mapping (key: value)", accept: { key, keyNode in
            guard known.contains(key) else {
                let hint = self.closest(key, in: known).map { " (did you mean '\($0)'?)" } ?? ""
                self.report(keyNode, self.join(path, key), "unknown key '\(key)'\(hint)")
                return false
            }
            return true
        }) else { return nil }
        var result: [String: Node] = [:]
        for (key, value) in entries { result[key] = value }
        for key in required where result[key] == nil {
            report(node, join(path, key), "missing required field '\(key)'")
        }
        return result
    }

    /// A mapping whose keys are names chosen by the engineer (programs, luminaire types).
    package func namedEntries(_ node: Node, _ path: String) -> [(name: String, node: Node)]? {
        uniqueEntries(node, path, expected: "a mapping of names", accept: { _, _ in true })
    }

    /// The entries of a mapping in document order, each key once (a repeated key is reported at
    /// the repetition), keeping only those `accept` takes, and remembering their lines.
    private func uniqueEntries(_ node: Node, _ path: String, expected: String,
                               accept: (String, Node) -> Bool) -> [(name: String, node: Node)]? {
        remember(node, path)
        guard case let .mapping(mapping) = node else {
            report(node, path, "expected \(expected), found \(kind(node))")
            return nil
        }
        var seen: Set<String> = []
        var result: [(String, Node)] = []
        for (keyNode, value) in mapping {
            let key = originalKey(keyNode)
            if !seen.insert(key).inserted {
                report(keyNode, join(path, key), "duplicate key '\(key)'")
                continue
            }
            guard accept(key, keyNode) else { continue }
            if let line = keyNode.mark?.line { lines[join(path, key)] = line }
            result.append((key, value))
        }
        return result
    }

    package func items(_ node: Node, _ path: String) -> [(path: String, node: Node)]? {
        remember(node, path)
        guard case let .sequence(sequence) = node else {
            report(node, path, "expected a list, found \(kind(node))")
            return nil
        }
        return sequence.enumerated().map { i, item in
            let itemPath = "\(path)[\(i)]"
            remember(item, itemPath)
            return (itemPath, item)
        }
    }

    // MARK: - Scalars

    private func plainScalar(_ node: Node, _ path: String, expected: String) -> (text: String, quoted: Bool)? {
        remember(node, path)
        guard case let .scalar(scalar) = node else {
            report(node, path, "expected \(expected), found \(kind(node))")
            return nil
        }
        if scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
            report(node, path, "expected \(expected), found nothing")
            return nil
        }
        return (scalar.string, scalar.style != .plain)
    }

    package func string(_ node: Node, _ path: String) -> String? {
        guard let (text, _) = plainScalar(node, path, expected: "a text") else { return nil }
        return text
    }

    package func double(_ node: Node, _ path: String, in range: ClosedRange<Double>, unit: String = "") -> Double? {
        guard let (text, quoted) = plainScalar(node, path, expected: "a number") else { return nil }
        guard !quoted, let value = Double(text), value.isFinite else {
            report(node, path, "expected a number, found '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            report(node, path, "\(text)\(unit) is out of range \(show(range.lowerBound))–\(show(range.upperBound))\(unit)")
            return nil
        }
        return value
    }

    package func int(_ node: Node, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard let (text, quoted) = plainScalar(node, path, expected: "a whole number") else { return nil }
        guard !quoted, let value = Int(text) else {
            report(node, path, "expected a whole number, found '\(text)'")
            return nil
        }
        guard range.contains(value) else {
            report(node, path, "\(value) is out of range \(range.lowerBound)–\(range.upperBound)")
            return nil
        }
        return value
    }

    package func bool(_ node: Node, _ path: String) -> Bool? {
        guard let (text, quoted) = plainScalar(node, path, expected: "true or false") else { return nil }
        switch (text, quoted) {
        case ("true", false): return true
        case ("false", false): return false
        default:
            report(node, path, "expected true or false, found '\(text)'")
            return nil
        }
    }

    package func level(_ node: Node, _ path: String) -> DimLevel? {
        double(node, path, in: 0...100, unit: " %").map { DimLevel(percent: $0) }
    }

    /// One of a fixed set of words.
    package func choice<T>(_ node: Node, _ path: String, _ options: [(String, T)]) -> T? {
        guard let text = string(node, path) else { return nil }
        if let match = options.first(where: { $0.0 == text }) { return match.1 }
        report(node, path, "'\(text)' is not one of: \(options.map(\.0).joined(separator: ", "))")
        return nil
    }

    // MARK: - Helpers

    /// The key as written (a key that is itself a list or mapping has no name to report).
    private func originalKey(_ node: Node) -> String {
        node.scalar?.string ?? "?"
    }

    package func kind(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case let .scalar(s): "'\(s.string)'"
        }
    }

    private func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    private func show(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e12 ? String(Int(v)) : String(v) }

    /// The known key nearest to a misspelt one (edit distance ≤ 2).
    private func closest(_ key: String, in known: Set<String>) -> String? {
        known.map { ($0, editDistance(key.lowercased(), $0.lowercased())) }
            .filter { $0.1 <= 2 }
            .min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    private func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...b.count {
                let old = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = old
            }
        }
        return row[b.count]
    }
}

