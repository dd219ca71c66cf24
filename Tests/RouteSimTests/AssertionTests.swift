import RouteSim
import Testing

@Suite("Assertion (--assert gates)")
struct AssertionTests {
    static let known: Set<String> = ["savingsVsFull", "darkExposureSeconds", "lightAheadRatio", "events", "x"]

    struct Good: CustomTestStringConvertible, Sendable {
        var text: String
        var metric: String
        var op: Assertion.Operator
        var value: Double
        var testDescription: String { "'\(text)'" }
    }

    static let good: [Good] = [
        Good(text: "savingsVsFull>=0.6", metric: "savingsVsFull", op: .greaterOrEqual, value: 0.6),
        Good(text: "darkExposureSeconds == 0", metric: "darkExposureSeconds", op: .equal, value: 0),
        Good(text: "lightAheadRatio>0.99", metric: "lightAheadRatio", op: .greater, value: 0.99),
        Good(text: "events<1e9", metric: "events", op: .less, value: 1e9),
        Good(text: "x!=1", metric: "x", op: .notEqual, value: 1),
        Good(text: "x<=2.5", metric: "x", op: .lessOrEqual, value: 2.5),
        Good(text: "  savingsVsFull  >=  0.6 ", metric: "savingsVsFull", op: .greaterOrEqual, value: 0.6),
        Good(text: "x>=-3", metric: "x", op: .greaterOrEqual, value: -3),
        Good(text: "x<-0.5", metric: "x", op: .less, value: -0.5),
    ]

    @Test("reads METRIC OP NUMBER", arguments: good)
    func parses(_ g: Good) throws {
        let a = try Assertion(parsing: g.text, known: Self.known)
        #expect(a.metric == g.metric)
        #expect(a.op == g.op)
        #expect(a.value == g.value)
        #expect(a.text == g.text)
        #expect(a.description == "\(g.metric) \(g.op.rawValue) \(g.value)")
    }

    static let malformed = [
        "savingsVsFull>=", ">=0.6", "savingsVsFull=>0.6", "savingsVsFull>=abc", "savingsVsFull=0.6",
        "savingsVsFull 0.6", "", "nonsense", "x>=1>=2", "x<=>1", "x>=nan", "x<inf", "saving-vs-full>=1", "x>=0.6%",
    ]

    @Test("rejects text that is not METRIC OP NUMBER", arguments: malformed)
    func rejectsMalformed(_ text: String) throws {
        let error = #expect(throws: Assertion.ParseError.self) { try Assertion(parsing: text, known: Self.known) }
        guard case let .malformed(quoted)? = error else {
            Issue.record("expected .malformed, got \(String(describing: error))")
            return
        }
        #expect(quoted == text)
        let message = error?.description ?? ""
        #expect(message.contains("cannot read assertion '\(text)'"), "\(message)")
        #expect(message.contains("savingsVsFull>=0.6"), "the message shows an example: \(message)")
        #expect(message.contains(">= <= == != > <"), "\(message)")
    }

    @Test("rejects an unknown metric and lists the known ones")
    func rejectsUnknownMetric() throws {
        let error = #expect(throws: Assertion.ParseError.self) { try Assertion(parsing: "foo>=1", known: Self.known) }
        guard case let .unknownMetric(name, known)? = error else {
            Issue.record("expected .unknownMetric, got \(String(describing: error))")
            return
        }
        #expect(name == "foo")
        #expect(Set(known) == Self.known)
        #expect(error?.description
            == "assertion names unknown metric 'foo'; known: darkExposureSeconds, events, lightAheadRatio, savingsVsFull, x")
    }

    @Test("metric names are case-sensitive")
    func caseSensitive() {
        #expect(throws: Assertion.ParseError.self) { try Assertion(parsing: "SavingsVsFull>=0.6", known: Self.known) }
    }

    struct Boundary: CustomTestStringConvertible, Sendable {
        var op: Assertion.Operator
        var below: Bool
        var at: Bool
        var above: Bool
        var testDescription: String { op.rawValue }
    }

    static let boundaries: [Boundary] = [
        Boundary(op: .greaterOrEqual, below: false, at: true, above: true),
        Boundary(op: .lessOrEqual, below: true, at: true, above: false),
        Boundary(op: .equal, below: false, at: true, above: false),
        Boundary(op: .notEqual, below: true, at: false, above: true),
        Boundary(op: .greater, below: false, at: false, above: true),
        Boundary(op: .less, below: true, at: false, above: false),
    ]

    @Test("holds(for:) below, at and above the boundary", arguments: boundaries)
    func holds(_ b: Boundary) throws {
        let a = try Assertion(parsing: "savingsVsFull\(b.op.rawValue)0.6", known: Self.known)
        #expect(a.op == b.op)
        #expect(a.holds(for: 0.6.nextDown) == b.below)
        #expect(a.holds(for: 0.5) == b.below)
        #expect(a.holds(for: 0.6) == b.at)
        #expect(a.holds(for: 0.6.nextUp) == b.above)
        #expect(a.holds(for: 0.7) == b.above)
    }

    @Test("every operator is read as itself, the two-character ones not as their first character")
    func everyOperator() throws {
        for op in Assertion.Operator.allCases {
            let a = try Assertion(parsing: "x \(op.rawValue) 2", known: Self.known)
            #expect(a.op == op, "\(op.rawValue)")
            #expect(a.value == 2)
        }
    }
}
