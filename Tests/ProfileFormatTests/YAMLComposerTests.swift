import Testing
@testable import ProfileFormat

/// The YAML layer under the profile and `pole.yaml` readers: libyaml's events composed into a
/// tree, with the limits a pole needs for documents that arrive over the network.
@Suite("YAMLComposer")
struct YAMLComposerTests {
    private func compose(_ text: String) throws(YAMLError) -> Node {
        guard let node = try YAMLComposer.compose(text) else {
            throw YAMLError(stage: .composer, context: nil, problem: "no document", mark: .init(line: 0, column: 0))
        }
        return node
    }

    private func scalars(_ node: Node) -> [String] {
        switch node {
        case let .scalar(s): [s.string]
        case let .sequence(items): items.flatMap(scalars)
        case let .mapping(pairs): pairs.flatMap { scalars($0.key) + scalars($0.value) }
        }
    }

    @Test("keys keep document order and marks count from 1; a repeated key stays in the tree")
    func orderAndMarks() throws {
        let node = try compose("b: 1\na:\n  - x\n  - 'y'\nb: 2\n")
        guard case let .mapping(m) = node else { Issue.record("not a mapping"); return }
        #expect(m.pairs.map { $0.key.scalar?.string } == ["b", "a", "b"])
        #expect(m.pairs.map { $0.key.mark?.line } == [1, 2, 5])
        #expect(m.mark == Node.Mark(line: 1, column: 1))
        guard case let .sequence(list) = m.pairs[1].value else { Issue.record("not a list"); return }
        #expect(list.items.map { $0.scalar?.style } == [.plain, .singleQuoted])
        #expect(list.mark.line == 3 && list.mark.column == 3)
    }

    @Test("JSON is YAML too")
    func json() throws {
        let node = try compose(#"{"a": [1, 2.5, "three"], "b": {"c": null}}"#)
        #expect(scalars(node) == ["a", "1", "2.5", "three", "b", "c", "null"])
    }

    @Test("an empty text or only comments has no document")
    func empty() throws {
        for text in ["", "\n\n", "# nothing\n"] {
            #expect(try YAMLComposer.compose(text) == nil)
        }
    }

    @Test("anchors and aliases resolve to the anchored node")
    func aliases() throws {
        let node = try compose("base: &b {level: 20}\nnight: *b\n")
        #expect(scalars(node) == ["base", "level", "20", "night", "level", "20"])
    }

    @Test("an alias to no anchor is an error at its line")
    func undefinedAlias() {
        #expect {
            try compose("a: 1\nb: *nowhere\n")
        } throws: { error in
            let e = error as? YAMLError
            return e?.stage == .composer && e?.mark.line == 2 && e?.problem == "found undefined alias 'nowhere'"
        }
    }

    @Test("a second document is refused")
    func twoDocuments() {
        #expect {
            try compose("a: 1\n---\nb: 2\n")
        } throws: { error in
            (error as? YAMLError)?.problem == "but found another document" && (error as? YAMLError)?.mark.line == 2
        }
    }

    @Test("nesting deeper than the limit is refused, not recursed into")
    func depth() throws {
        let deep = String(repeating: "[", count: YAMLComposer.maximumDepth + 1) + String(repeating: "]", count: YAMLComposer.maximumDepth + 1)
        #expect(throws: YAMLError.self) { try compose(deep) }
        let ok = String(repeating: "[", count: YAMLComposer.maximumDepth) + String(repeating: "]", count: YAMLComposer.maximumDepth)
        _ = try compose(ok)
    }

    @Test("aliases that would expand past the limit are refused (billion laughs)")
    func aliasBomb() {
        var lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g"] {
            lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]")
            previous = name
        }
        #expect {
            try compose(lines.joined(separator: "\n") + "\n")
        } throws: { error in
            (error as? YAMLError)?.problem.contains("aliases expand to more than") == true
        }
    }

    @Test("a syntax error names libyaml's context, problem and line")
    func syntaxError() {
        #expect {
            try compose("a: 1\nb: [1, 2\nc: 3\n")
        } throws: { error in
            guard let e = error as? YAMLError else { return false }
            return e.stage == .parser && e.context != nil && !e.problem.isEmpty && e.mark.line >= 2
        }
    }

    @Test("a control character is a reader error at its line")
    func readerError() {
        #expect {
            try compose("a: 1\nb: x\u{07}y\n")
        } throws: { error in
            guard let e = error as? YAMLError else { return false }
            return e.stage == .reader && e.mark.line == 2
        }
    }
}
