/// A CI gate on a simulation figure: `metric OP number`, e.g. `savingsVsFull>=0.6`.
public struct Assertion: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, CaseIterable, Sendable {
        // Two-character operators first, so `>=` is not read as `>`.
        case greaterOrEqual = ">=", lessOrEqual = "<=", equal = "==", notEqual = "!=", greater = ">", less = "<"
    }

    public var metric: String
    public var op: Operator
    public var value: Double
    public var text: String

    public enum ParseError: Error, CustomStringConvertible {
        case malformed(String)
        case unknownMetric(String, known: [String])

        public var description: String {
            switch self {
            case let .malformed(text):
                "cannot read assertion '\(text)': write METRIC OP NUMBER, e.g. 'savingsVsFull>=0.6' (OP is one of >= <= == != > <)"
            case let .unknownMetric(name, known):
                "assertion names unknown metric '\(name)'; known: \(known.sorted().joined(separator: ", "))"
            }
        }
    }

    /// Parses `text`; `known` are the metric names that exist.
    public init(parsing text: String, known: Set<String>) throws {
        let compact = text.filter { !$0.isWhitespace }
        for op in Operator.allCases {
            guard let range = compact.range(of: op.rawValue) else { continue }
            let name = String(compact[..<range.lowerBound])
            let number = String(compact[range.upperBound...])
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber }), let value = Double(number),
                  value.isFinite
            else { throw ParseError.malformed(text) }
            guard known.contains(name) else { throw ParseError.unknownMetric(name, known: Array(known)) }
            self.metric = name
            self.op = op
            self.value = value
            self.text = text
            return
        }
        throw ParseError.malformed(text)
    }

    public func holds(for actual: Double) -> Bool {
        switch op {
        case .greaterOrEqual: actual >= value
        case .lessOrEqual: actual <= value
        case .equal: actual == value
        case .notEqual: actual != value
        case .greater: actual > value
        case .less: actual < value
        }
    }

    public var description: String { "\(metric) \(op.rawValue) \(value)" }
}
