/// A composed YAML document: the tree the readers walk field by field.
///
/// Lichtweg composes YAML itself over libyaml's event parser (`YAMLComposer`) instead of through
/// Yams, because Yams needs the full Foundation: on the pole that alone is more memory than the
/// whole daemon's budget (docs/benchmarks.md). Keys keep their document order and a repeated key
/// stays in the tree, so the readers can name it at its own line.
package enum Node: Sendable {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(Sequence)

    /// Where a node starts in the text; lines and columns count from 1.
    package struct Mark: Sendable, Hashable {
        package var line: Int
        package var column: Int
    }

    package struct Scalar: Sendable {
        package enum Style: Sendable { case plain, singleQuoted, doubleQuoted, literal, folded }
        package var string: String
        package var style: Style
        package var mark: Mark
    }

    package struct Mapping: Sendable, Swift.Sequence {
        package var pairs: [(key: Node, value: Node)]
        package var mark: Mark
        package func makeIterator() -> IndexingIterator<[(key: Node, value: Node)]> { pairs.makeIterator() }
    }

    package struct Sequence: Sendable, Swift.Sequence {
        package var items: [Node]
        package var mark: Mark
        package func makeIterator() -> IndexingIterator<[Node]> { items.makeIterator() }
    }

    package var mark: Mark? {
        switch self {
        case let .scalar(s): s.mark
        case let .mapping(m): m.mark
        case let .sequence(s): s.mark
        }
    }

    package var scalar: Scalar? {
        if case let .scalar(s) = self { s } else { nil }
    }
}
