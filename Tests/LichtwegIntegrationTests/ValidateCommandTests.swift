import Foundation
import Testing

@Suite("lichtweg profile validate")
struct ValidateCommandTests {
    /// `Profiles/*.yaml` of the repository.
    static func shippedProfiles() -> [URL] {
        let dir = CLI.packageRoot.appendingPathComponent("Profiles")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { dir.appendingPathComponent($0) }
    }

    @Test("every Profiles/*.yaml validates (exit 0)")
    func shippedProfilesValidate() throws {
        let temp = try TempDir()
        var files = Self.shippedProfiles()
        if files.isEmpty {
            // No route files in the repository yet: check the command on a profile of our own, so
            // that this test still exercises the same path.
            files = [try temp.write("it-road.yaml", IntegrationSample.yaml)]
        }
        for file in files {
            let r = try CLI.run(["profile", "validate", file.path])
            #expect(r.status == 0, "\(file.lastPathComponent): \(r.output)")
            #expect(r.stdout.hasPrefix("\(file.path): ok"), "\(r.output)")
        }
    }

    @Test("a directory stands for its *.yaml files")
    func directory() throws {
        let temp = try TempDir()
        _ = try temp.write("a.yaml", IntegrationSample.yaml)
        _ = try temp.write("b.yaml", IntegrationSample.yaml.replacingOccurrences(of: "id: it-road", with: "id: it-road-b"))
        _ = try temp.write("notes.txt", "not a profile")
        let r = try CLI.run(["profile", "validate", temp.url.path])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdoutLines.count == 2, "\(r.stdout)")
        #expect(r.stdoutLines.allSatisfy { $0.contains(": ok — route it-road") }, "\(r.stdout)")
    }

    /// The broken profile's problems: the edit, and the field path the diagnostic must name.
    static let problems: [(old: String, new: String, path: String)] = [
        ("  timezone: Europe/Berlin", "  timezone: Europe/Taucha", "route.timezone"),
        ("- {id: A3, chainage: 80,", "- {id: A3, chainage: 20,", "route.poles[2].chainage"),
        ("  default: weeknight", "  default: weekday", "calendar.default"),
        ("- {at: \"22:00\", level: 10, class: P6}", "- {at: \"22:00\", level: 5, class: P6}", "programs.weeknight.steps[1].level"),
        ("- {at: 05:00, level: 30}", "- {at: \"21:00\", level: 30}", "programs.weeknight.steps[2].at"),
    ]

    static func brokenProfile() -> String {
        var text = IntegrationSample.yaml
        for p in problems {
            precondition(text.components(separatedBy: p.old).count == 2, "'\(p.old)' is not unique")
            text = text.replacingOccurrences(of: p.old, with: p.new)
        }
        return text
    }

    @Test("a broken profile exits 1 with one PATH:LINE: field: message line per problem", arguments: [false, true])
    func broken(quiet: Bool) throws {
        let temp = try TempDir()
        let text = Self.brokenProfile()
        let file = try temp.write("broken.yaml", text)
        let r = try CLI.run(["profile", "validate"] + (quiet ? ["--quiet"] : []) + [file.path])
        #expect(r.status == 1, "\(r.output)")

        let pattern = try Regex("^" + NSRegularExpression.escapedPattern(for: file.path) + #":([0-9]+): ([A-Za-z.\[\]0-9]+): "#)
        let matching = r.stdoutLines.filter { $0.firstMatch(of: pattern) != nil }
        #expect(matching.count == Self.problems.count, "\(r.stdout)")
        #expect(Set(matching).count == matching.count, "a problem is reported twice")

        // Each problem on the line of its edit, with its field path, in line order.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let expected = Self.problems.map { p in
            (line: lines.firstIndex { $0.contains(p.new) }.map { $0 + 1 } ?? -1, path: p.path)
        }.sorted { $0.line < $1.line }
        let reported = matching.compactMap { line -> (line: Int, path: String)? in
            guard let m = line.firstMatch(of: pattern) else { return nil }
            let parts = m.output.map { $0.substring.map(String.init) ?? "" }
            return (Int(parts[1]) ?? 0, parts[2])
        }
        #expect(reported.map(\.line) == expected.map(\.line), "\(r.stdout)")
        #expect(reported.map(\.path) == expected.map(\.path), "\(r.stdout)")

        if quiet {
            #expect(r.stdoutLines.count == Self.problems.count, "--quiet prints only problems: \(r.stdout)")
        } else {
            #expect(r.stdout.contains("1 of 1 profiles have problems"), "\(r.stdout)")
        }
    }

    @Test("one broken and one valid file: exit 1, the valid one still reported ok")
    func mixed() throws {
        let temp = try TempDir()
        let good = try temp.write("good.yaml", IntegrationSample.yaml)
        let bad = try temp.write("bad.yaml", IntegrationSample.yaml.replacingOccurrences(of: "level: 80", with: "level: 180"))
        let r = try CLI.run(["profile", "validate", good.path, bad.path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("\(good.path): ok"))
        let badLine = IntegrationSample.yaml.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.contains("level: 80") }.map { $0 + 1 }
        #expect(r.stdout.contains("\(bad.path):\(badLine ?? -1): programs.festive.steps[0].level: 180 % is out of range 0–100 %"),
                "\(r.stdout)")
        #expect(r.stdout.contains("1 of 2 profiles have problems"))
    }

    @Test("a missing file exits 1 with a clear message")
    func missingFile() throws {
        let temp = try TempDir()
        let missing = temp.url.appendingPathComponent("no-such-route.yaml").path
        let r = try CLI.run(["profile", "validate", missing])
        #expect(r.status == 1, "\(r.output)")
        #expect(r.output.contains(missing), "\(r.output)")
        #expect(r.output.contains("cannot read the file (does it exist?)"), "\(r.output)")
    }

    @Test("a YAML syntax error is reported at its line")
    func syntaxError() throws {
        let temp = try TempDir()
        let text = IntegrationSample.yaml.replacingOccurrences(of: "    class: P4\n    steps:\n      - {at: switchOn, level: 40}",
                                                               with: "    class: P4: P6\n    steps:\n      - {at: switchOn, level: 40}")
        #expect(text != IntegrationSample.yaml)
        let file = try temp.write("syntax.yaml", text)
        let r = try CLI.run(["profile", "validate", "--quiet", file.path])
        #expect(r.status == 1)
        let line = text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("class: P4: P6") }! + 1
        #expect(r.stdout.hasPrefix("\(file.path):\(line): (document): YAML syntax error"), "\(r.stdout)")
    }
}
