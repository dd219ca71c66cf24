import CYAML

/// A YAML text that cannot be composed: where, and libyaml's words for what is wrong.
package struct YAMLError: Error, Sendable, CustomStringConvertible {
    package enum Stage: Sendable { case reader, scanner, parser, composer }
    package var stage: Stage
    /// What libyaml was reading when it failed ("while parsing a block mapping"), if it says.
    package var context: String?
    package var problem: String
    package var mark: Node.Mark

    package var description: String {
        "line \(mark.line), column \(mark.column): \(context.map { "\($0) " } ?? "")\(problem)"
    }
}

/// Composes one YAML document into a `Node` tree from libyaml's parser events.
///
/// libyaml does the scanning and parsing (it is what Yams wraps too); this type only builds the
/// tree, resolves aliases and enforces the limits that a pole receiving documents over the network
/// needs: a bounded nesting depth (the tree is built and freed without recursion deeper than
/// that) and a bounded alias expansion (no "billion laughs").
package enum YAMLComposer {
    package static let maximumDepth = 128
    package static let maximumAliasExpansion = 100_000

    /// The document's root, nil for a text without a document (empty or only comments).
    package static func compose(_ text: String) throws(YAMLError) -> Node? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLError(stage: .reader, context: nil, problem: "libyaml could not allocate a parser", mark: .init(line: 1, column: 1))
        }
        defer { yaml_parser_delete(&parser) }
        // utf8CString is never empty (it ends with NUL), so the input pointer is never nil.
        let bytes = text.utf8CString
        let result: Result<Node?, YAMLError> = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UInt8.self, capacity: buffer.count) { input in
                yaml_parser_set_input_string(&parser, input, buffer.count - 1)
                var tree = TreeBuilder()
                while true {
                    var event = yaml_event_t()
                    guard yaml_parser_parse(&parser, &event) == 1 else {
                        return .failure(parserError(parser, text: bytes))
                    }
                    defer { yaml_event_delete(&event) }
                    do throws(YAMLError) {
                        if try tree.handle(event) { return .success(tree.root) }
                    } catch {
                        return .failure(error)
                    }
                }
            }
        }
        return try result.get()
    }

    // MARK: - Errors

    private static func parserError(_ parser: yaml_parser_t, text: ContiguousArray<CChar>) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        let context = parser.context.map { String(cString: $0) }
        switch parser.error {
        case YAML_READER_ERROR:
            return YAMLError(stage: .reader, context: nil, problem: problem, mark: mark(atOffset: parser.problem_offset, in: text))
        case YAML_SCANNER_ERROR:
            return YAMLError(stage: .scanner, context: context, problem: problem, mark: mark(parser.problem_mark))
        case YAML_MEMORY_ERROR:
            return YAMLError(stage: .reader, context: nil, problem: "libyaml ran out of memory", mark: mark(parser.problem_mark))
        default:
            return YAMLError(stage: .parser, context: context, problem: problem, mark: mark(parser.problem_mark))
        }
    }

    static func mark(_ m: yaml_mark_t) -> Node.Mark {
        Node.Mark(line: Int(m.line) + 1, column: Int(m.column) + 1)
    }

    /// Reader errors carry a byte offset only.
    private static func mark(atOffset offset: Int, in text: ContiguousArray<CChar>) -> Node.Mark {
        var line = 1, column = 1
        for byte in text.prefix(offset) {
            if byte == 0x0A { line += 1; column = 1 } else { column += 1 }
        }
        return Node.Mark(line: line, column: column)
    }
}

// MARK: - Tree building

/// Builds the tree from events with an explicit stack of open collections.
private struct TreeBuilder {
    /// An open collection. A mapping's entries alternate key, value until it ends.
    private struct Open {
        var isMapping: Bool
        var entries: [Node] = []
        var mark: Node.Mark
        var anchor: String?
        /// Nodes in the subtree so far, to bound alias expansion.
        var size = 1
    }

    private(set) var root: Node?
    private var open: [Open] = []
    private var documents = 0
    /// Anchored nodes and how many nodes each stands for.
    private var anchors: [String: (node: Node, size: Int)] = [:]
    private var expanded = 0

    /// Handles one event; true at the end of the stream.
    mutating func handle(_ event: yaml_event_t) throws(YAMLError) -> Bool {
        let mark = YAMLComposer.mark(event.start_mark)
        switch event.type {
        case YAML_STREAM_END_EVENT:
            return true
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 {
                throw YAMLError(stage: .composer, context: "expected a single document in the stream",
                                problem: "but found another document", mark: mark)
            }
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
            add(.scalar(Node.Scalar(string: text, style: Self.style(s.style), mark: mark)),
                anchor: Self.string(s.anchor), size: 1)
        case YAML_ALIAS_EVENT:
            let name = Self.string(event.data.alias.anchor) ?? ""
            guard let target = anchors[name] else {
                throw YAMLError(stage: .composer, context: nil, problem: "found undefined alias '\(name)'", mark: mark)
            }
            expanded += target.size
            guard expanded <= YAMLComposer.maximumAliasExpansion else {
                throw YAMLError(stage: .composer, context: nil,
                                problem: "aliases expand to more than \(YAMLComposer.maximumAliasExpansion) nodes", mark: mark)
            }
            add(target.node, anchor: nil, size: target.size)
        case YAML_SEQUENCE_START_EVENT:
            try checkDepth(mark)
            open.append(Open(isMapping: false, mark: mark, anchor: Self.string(event.data.sequence_start.anchor)))
        case YAML_MAPPING_START_EVENT:
            try checkDepth(mark)
            open.append(Open(isMapping: true, mark: mark, anchor: Self.string(event.data.mapping_start.anchor)))
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let done = open.popLast() else {
                throw YAMLError(stage: .composer, context: nil, problem: "a collection ends that was never opened", mark: mark)
            }
            if done.isMapping {
                let e = done.entries
                let pairs = stride(from: 0, to: e.count - 1, by: 2).map { (key: e[$0], value: e[$0 + 1]) }
                add(.mapping(Node.Mapping(pairs: pairs, mark: done.mark)), anchor: done.anchor, size: done.size)
            } else {
                add(.sequence(Node.Sequence(items: done.entries, mark: done.mark)), anchor: done.anchor, size: done.size)
            }
        default:
            break  // stream start, document end
        }
        return false
    }

    private func checkDepth(_ mark: Node.Mark) throws(YAMLError) {
        guard open.count < YAMLComposer.maximumDepth else {
            throw YAMLError(stage: .composer, context: nil,
                            problem: "collections nested deeper than \(YAMLComposer.maximumDepth) levels", mark: mark)
        }
    }

    /// A completed node goes into the innermost open collection, or becomes the root.
    private mutating func add(_ node: Node, anchor: String?, size: Int) {
        if let anchor { anchors[anchor] = (node, size) }
        guard !open.isEmpty else {
            root = node
            return
        }
        open[open.count - 1].entries.append(node)
        open[open.count - 1].size += size
    }

    private static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        p.map { String(cString: $0) }
    }

    private static func style(_ s: yaml_scalar_style_t) -> Node.Scalar.Style {
        switch s {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: .literal
        case YAML_FOLDED_SCALAR_STYLE: .folded
        default: .plain
        }
    }
}
