import ArgumentParser
import Foundation
import LightCore
import ProfileFormat

/// `lichtweg profile preview PATH --date YYYY-MM-DD [--format text|json]`
struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Show the plan of one night: switch-on and switch-off, base-level steps and the route's energy with no traffic."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Argument(help: "The profile file.")
    var path: String

    @Option(help: "The local date on which the night begins (YYYY-MM-DD); default: tonight at the route.")
    var date: String?

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    func run() throws {
        let profile: Profile
        switch ProfileFiles.load(path) {
        case let .success(p): profile = p
        case let .failure(problems):
            for d in problems.diagnostics { printError(d.description) }
            throw ExitCode(1)
        }
        let zone = ZoneRules(identifier: profile.route.timeZone) ?? .utc
        let night: LocalDate
        if let date {
            guard let d = LocalDate(iso: date) else { throw ValidationError("--date '\(date)' is not a date YYYY-MM-DD") }
            night = d
        } else {
            night = zone.local(Instant(secondsSinceEpoch: Date().timeIntervalSince1970)).date
        }
        let preview = NightPreview(profile: profile, date: night)
        switch format {
        case .json: print(try PreviewJSON(profile: profile, preview: preview).encoded())
        case .text: print(PreviewText.render(profile: profile, preview: preview))
        }
    }
}

// MARK: - JSON

/// The JSON form of a preview; field names are part of the CLI's interface.
struct PreviewJSON: Encodable {
    struct Step: Encodable {
        var at: String
        var level: Double
        var lightingClass: String
        var minimum: Double
        enum CodingKeys: String, CodingKey { case at, level, lightingClass = "class", minimum }
    }

    var route: String
    var routeName: String
    var profileVersion: Int
    var date: String
    var timezone: String
    var program: String
    var calendarRule: String?
    var sunset: String?
    var sunrise: String?
    var switchOn: String?
    var switchOff: String?
    var litHours: Double
    var steps: [Step]
    var presence: Bool
    var poles: Int
    var energyWh: Double
    var fullLightWh: Double
    var savingVsFullLight: Double

    init(profile: Profile, preview: NightPreview) {
        let plan = preview.plan
        let zone = preview.zone
        func iso(_ i: Instant) -> String { ISO8601.format(i, in: zone) }
        route = profile.route.id
        routeName = profile.route.name
        profileVersion = profile.version
        date = plan.date.description
        timezone = zone.identifier
        program = plan.programName
        calendarRule = plan.ruleName
        sunset = preview.sunset.instant.map(iso)
        sunrise = preview.sunrise.instant.map(iso)
        switchOn = plan.isLitAtAll ? iso(plan.switchOn) : nil
        switchOff = plan.isLitAtAll ? iso(plan.switchOff) : nil
        litHours = (preview.litSeconds / 36).rounded() / 100
        steps = plan.isLitAtAll ? plan.steps.map {
            Step(at: iso($0.start), level: $0.level.percent, lightingClass: $0.lightingClass.description,
                 minimum: $0.minimum.percent)
        } : []
        presence = plan.presence != nil
        poles = preview.poleCount
        energyWh = (preview.energyWattHours * 10).rounded() / 10
        fullLightWh = (preview.fullLightWattHours * 10).rounded() / 10
        savingVsFullLight = preview.fullLightWattHours > 0
            ? ((1 - preview.energyWattHours / preview.fullLightWattHours) * 1000).rounded() / 1000 : 0
    }

    func encoded() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

// MARK: - Text

enum PreviewText {
    static func render(profile: Profile, preview: NightPreview) -> String {
        let plan = preview.plan
        let zone = preview.zone
        func clock(_ i: Instant) -> String {
            let local = zone.local(i)
            let s = Int(local.secondsOfDay.rounded())
            let hm = LocalTime(hour: s / 3600 % 24, minute: s % 3600 / 60).description
            let dayNote = local.date == plan.date ? "" : " (\(local.date.weekday.rawValue.capitalized))"
            return hm + dayNote + " " + offset(zone.offset(at: i))
        }
        func sun(_ t: SunEventTime) -> String {
            switch t {
            case let .at(i): clock(i)
            case .sunAlwaysAbove: "none (the sun stays up)"
            case .sunAlwaysBelow: "none (the sun stays down)"
            }
        }
        let program = profile.programs[plan.programName]
        var lines: [String] = []
        lines.append("\(profile.route.name) — route \(profile.route.id), \(profile.route.poles.count) poles, profile version \(profile.version)")
        lines.append("Night of \(plan.date.weekday.rawValue.capitalized) \(plan.date) (\(zone.identifier)): program '\(plan.programName)'"
            + (plan.ruleName.map { " by rule '\($0)'" } ?? " (default)"))
        lines.append("  sunset \(sun(preview.sunset)), sunrise \(sun(preview.sunrise))")
        guard plan.isLitAtAll else {
            lines.append("  the lamps stay dark this night (no darkness at this place and date)")
            return lines.joined(separator: "\n")
        }
        lines.append("  \(clock(plan.switchOn))  switch on  (\(program?.switchOn.description ?? "?"))")
        for step in plan.steps {
            let level = String(format: "%5.1f %%", step.level.percent)
            lines.append("  \(clock(step.start))  \(level)  class \(step.lightingClass) (minimum \(step.minimum))")
        }
        lines.append("  \(clock(plan.switchOff))  switch off (\(program?.switchOff.description ?? "?"))")
        if let p = plan.presence {
            lines.append("  presence: \(p.level) for \(Int(p.holdSeconds)) s, \(p.polesAhead) poles ahead, \(p.polesBehind) behind")
        } else {
            lines.append("  presence control: off")
        }
        let hours = Int(preview.litSeconds) / 3600, minutes = Int(preview.litSeconds) % 3600 / 60
        let saving = preview.fullLightWattHours > 0 ? 100 * (1 - preview.energyWattHours / preview.fullLightWattHours) : 0
        lines.append(String(format: "  lit %d h %02d min; energy with no traffic %.2f kWh (%.0f Wh per pole), full light %.2f kWh: %.0f %% less",
                            hours, minutes, preview.energyWattHours / 1000,
                            preview.energyWattHours / Double(max(1, preview.poleCount)),
                            preview.fullLightWattHours / 1000, saving))
        return lines.joined(separator: "\n")
    }

    private static func offset(_ seconds: Int) -> String {
        let h = abs(seconds) / 3600, m = abs(seconds) % 3600 / 60
        return "UTC" + (seconds < 0 ? "-" : "+") + String(h) + (m > 0 ? String(format: ":%02d", m) : "")
    }
}
