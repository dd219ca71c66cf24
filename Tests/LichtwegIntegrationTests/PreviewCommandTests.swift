import Foundation
import Testing

@Suite("lichtweg profile preview")
struct PreviewCommandTests {
    /// `YYYY-MM-DDTHH:MM:SS±HH:MM`
    static var isoWithOffset: Regex<AnyRegexOutput> {
        try! Regex(#"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$"#)
    }

    static func sampleFile(_ temp: TempDir, _ text: String = IntegrationSample.yaml) throws -> URL {
        try temp.write("it-road.yaml", text)
    }

    /// Seconds since 1970 of an ISO-8601 timestamp with offset.
    static func epoch(_ text: String) -> Double? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)?.timeIntervalSince1970
    }

    @Test("--format json: switch times with UTC offset, steps, energy", arguments: [
        ("2026-01-15", "+01:00", "+01:00"),
        ("2026-07-15", "+02:00", "+02:00"),
    ])
    func json(date: String, onOffset: String, offOffset: String) throws {
        let temp = try TempDir()
        let j = try CLI.previewJSON(try Self.sampleFile(temp), date: date)

        let on = try #require(j["switchOn"] as? String, "switchOn: \(j)")
        let off = try #require(j["switchOff"] as? String, "switchOff: \(j)")
        #expect(on.wholeMatch(of: Self.isoWithOffset) != nil, "\(on)")
        #expect(off.wholeMatch(of: Self.isoWithOffset) != nil, "\(off)")
        #expect(on.hasPrefix(date + "T"), "switch-on is on the evening of the night's date: \(on)")
        #expect(on.hasSuffix(onOffset), "\(on)")
        #expect(off.hasSuffix(offOffset), "\(off)")
        let onEpoch = try #require(Self.epoch(on)), offEpoch = try #require(Self.epoch(off))
        #expect(offEpoch > onEpoch)
        #expect((6 * 3600...18 * 3600).contains(offEpoch - onEpoch), "a night at 51° N is 6–18 h long")

        let steps = try #require(j["steps"] as? [[String: Any]], "steps: \(String(describing: j["steps"]))")
        #expect(steps.count == 3)
        #expect(steps.compactMap { $0["at"] as? String }.count == 3)
        #expect(steps.compactMap { ($0["level"] as? NSNumber)?.doubleValue } == [40, 10, 30])
        #expect(steps.first?["at"] as? String == on, "the first step starts at switch-on")
        let stepEpochs = steps.compactMap { ($0["at"] as? String).flatMap(Self.epoch) }
        #expect(stepEpochs == stepEpochs.sorted() && stepEpochs.allSatisfy { $0 >= onEpoch && $0 < offEpoch })

        let energy = try #require((j["energyWh"] as? NSNumber)?.doubleValue)
        let full = try #require((j["fullLightWh"] as? NSNumber)?.doubleValue)
        #expect(energy > 0)
        #expect(energy < full, "dimmed is less than full light")
        #expect(j["program"] as? String == "weeknight")
        #expect(j["timezone"] as? String == "Europe/Berlin")
        #expect(j["route"] as? String == "it-road")
        #expect(j["date"] as? String == date)
    }

    @Test("every Profiles/*.yaml previews as JSON in winter and in summer")
    func shippedProfilesPreview() throws {
        let temp = try TempDir()
        var files = ValidateCommandTests.shippedProfiles()
        if files.isEmpty { files = [try Self.sampleFile(temp)] }
        for file in files {
            for (date, offset) in [("2026-01-15", "+01:00"), ("2026-06-20", "+02:00")] {
                let j = try CLI.previewJSON(file, date: date)
                let on = try #require(j["switchOn"] as? String, "\(file.lastPathComponent) \(date)")
                let off = try #require(j["switchOff"] as? String, "\(file.lastPathComponent) \(date)")
                #expect(on.hasPrefix(date) && on.hasSuffix(offset), "\(file.lastPathComponent): \(on)")
                #expect(off.hasSuffix(offset), "\(file.lastPathComponent): \(off)")
                #expect((Self.epoch(off) ?? 0) > (Self.epoch(on) ?? .infinity), "\(file.lastPathComponent) \(date)")
                let steps = j["steps"] as? [[String: Any]] ?? []
                #expect(!steps.isEmpty && steps.first?["at"] as? String == on, "\(file.lastPathComponent) \(date)")
                #expect(((j["energyWh"] as? NSNumber)?.doubleValue ?? 0) > 0, "\(file.lastPathComponent) \(date)")
            }
        }
    }

    @Test("the calendar rule's program is used on its date")
    func calendarRule() throws {
        let temp = try TempDir()
        let j = try CLI.previewJSON(try Self.sampleFile(temp), date: "2026-12-24")
        #expect(j["program"] as? String == "festive")
        #expect(j["calendarRule"] as? String == "Christmas Eve")
        let steps = try #require(j["steps"] as? [[String: Any]])
        #expect(steps.count == 1)
        #expect((steps.first?["level"] as? NSNumber)?.doubleValue == 80)
    }

    struct DSTCase: Sendable, CustomTestStringConvertible {
        var night: String
        var morning: String
        var before: String
        var after: String
        var testDescription: String { "night of \(night): \(before) → \(after)" }
    }

    @Test("steps keep their wall-clock times across the DST changes", arguments: [
        DSTCase(night: "2026-03-28", morning: "2026-03-29", before: "+01:00", after: "+02:00"),
        DSTCase(night: "2026-10-24", morning: "2026-10-25", before: "+02:00", after: "+01:00"),
    ])
    func dst(_ c: DSTCase) throws {
        let temp = try TempDir()
        let j = try CLI.previewJSON(try Self.sampleFile(temp), date: c.night)
        let steps = try #require(j["steps"] as? [[String: Any]])
        let at = steps.compactMap { $0["at"] as? String }
        try #require(at.count == 3, "\(steps)")
        #expect(at[1] == "\(c.night)T22:00:00\(c.before)")
        #expect(at[2] == "\(c.morning)T05:00:00\(c.after)")
        let on = try #require(j["switchOn"] as? String), off = try #require(j["switchOff"] as? String)
        #expect(on.hasPrefix(c.night) && on.hasSuffix(c.before), "\(on)")
        #expect(off.hasPrefix(c.morning) && off.hasSuffix(c.after), "\(off)")
        // 22:00 to 05:00 is 7 h of wall time: 6 h of real time in spring, 8 h in autumn.
        let real = try #require(Self.epoch(at[2])) - (try #require(Self.epoch(at[1])))
        #expect(real == (c.before == "+01:00" ? 6 : 8) * 3600)
    }

    @Test("a step in the skipped or repeated hour", arguments: [
        ("2026-03-28", "2026-03-29T03:30:00+02:00"),  // 02:30 does not exist: one hour of wall time later
        ("2026-10-24", "2026-10-25T02:30:00+02:00"),  // 02:30 happens twice: the first one
    ])
    func ambiguousStep(night: String, expected: String) throws {
        let temp = try TempDir()
        let text = IntegrationSample.yaml.replacingOccurrences(of: "- {at: 05:00, level: 30}", with: "- {at: \"02:30\", level: 30}")
        let j = try CLI.previewJSON(try Self.sampleFile(temp, text), date: night)
        let at = (j["steps"] as? [[String: Any]] ?? []).compactMap { $0["at"] as? String }
        #expect(at.count == 3)
        #expect(at.last == expected)
    }

    @Test("--format text names the route and the switch-on and -off times")
    func text() throws {
        let temp = try TempDir()
        let file = try Self.sampleFile(temp)
        let r = try CLI.run(["profile", "preview", file.path, "--date", "2026-03-28", "--format", "text"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stdout.contains(IntegrationSample.routeName), "\(r.stdout)")
        #expect(r.stdout.contains("switch on"), "\(r.stdout)")
        #expect(r.stdout.contains("switch off"), "\(r.stdout)")
        #expect(r.stdout.contains("program 'weeknight'"), "\(r.stdout)")
        #expect(r.stdout.contains("22:00 UTC+1"), "\(r.stdout)")
        #expect(r.stdout.contains("05:00 (Sun) UTC+2"), "\(r.stdout)")
        // Text is the default format.
        let plain = try CLI.run(["profile", "preview", file.path, "--date", "2026-03-28"])
        #expect(plain.stdout == r.stdout)
    }

    @Test("preview of a broken profile exits 1 and prints its problems")
    func broken() throws {
        let temp = try TempDir()
        let file = try Self.sampleFile(temp, IntegrationSample.yaml.replacingOccurrences(of: "timezone: Europe/Berlin",
                                                                                        with: "timezone: Europe/Taucha"))
        let r = try CLI.run(["profile", "preview", file.path, "--date", "2026-01-15", "--format", "json"])
        #expect(r.status == 1)
        #expect(r.stdout.isEmpty, "no JSON for a broken profile: \(r.stdout)")
        #expect(r.stderr.contains("\(file.path):6: route.timezone: unknown time zone 'Europe/Taucha'"), "\(r.stderr)")
    }

    @Test("a malformed --date is refused")
    func badDate() throws {
        let temp = try TempDir()
        let r = try CLI.run(["profile", "preview", try Self.sampleFile(temp).path, "--date", "2026-02-30"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("2026-02-30"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}
