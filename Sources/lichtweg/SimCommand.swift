import ArgumentParser
import Foundation
import LightCore
import ProfileFormat
import RouteSim

/// `lichtweg sim --profile PATH …`: runs a route's real pole logic in virtual time against
/// modelled road users and reports energy and light-ahead figures; `--assert` makes it a CI gate.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Simulate nights on a route: energy, dark exposure and light ahead of every road user.",
        discussion: """
        Exit status: 0 when the run completed and every --assert holds, 1 when an assertion fails, \
        2 for bad input (profile, traffic file, parameters, assertion syntax).

        With --live, a window starting now is run in virtual time and replayed in real time into \
        running lichtweg-pole processes (sim backend; --pole-data), and their lamp decisions are \
        compared pole by pole: exit 0 when they agree within --tolerance, 1 when they differ (or an \
        assertion fails, or the live lamps do not settle), 2 for bad input. With --network-draws, \
        the live light ahead of the road users is compared with the simulator's prediction instead.
        """
    )

    @Option(help: "The profile to simulate.")
    var profile: String

    @Option(help: "Number of consecutive nights.")
    var nights: Int = 7

    @Option(help: "The local date on which the first night begins (YYYY-MM-DD); default: tonight at the route.")
    var from: String?

    @Option(help: "Random seed; the same seed gives the same run.")
    var seed: UInt64 = 1

    @Option(help: "Traffic: a simulation model (.yaml, lichtweg-traffic/1) or hourly counts (.csv: hour,pedestrian,cyclist,car). Default: Profiles/traffic/ROUTE.yaml beside the profile, else rural-night.yaml.")
    var traffic: String?

    @Flag(help: "Sensors that never miss a road user (moving or standing) and never trigger falsely.")
    var idealSensors = false

    @Option(help: "Override the network's median notice latency in seconds.")
    var latency: Double?

    @Option(help: "Override the network's notice loss rate (0–1).")
    var loss: Double?

    @Flag(help: "Print the figures as JSON on standard output.")
    var json = false

    @Option(help: "Write a Markdown report with SVG pictures into this folder.")
    var report: String?

    @Option(name: .customLong("assert"), help: "A gate such as 'savingsVsFull>=0.6' or 'darkExposureSeconds==0' (repeatable).")
    var assertions: [String] = []

    @Flag(help: "No progress bar, even on a terminal.")
    var noProgress = false

    @Option(help: "How many nights to simulate at the same time, each on its own thread (1–256; default: one per processor). The results are the same for any number.")
    var threads: Int?

    @Option(help: "Multiply the traffic model's hourly arrivals by this factor (0–10000), e.g. to give a short --live window enough road users.")
    var trafficScale: Double = 1

    // MARK: Live (see LiveSimCommand.swift)

    @Flag(help: "Replay a window starting now into running lichtweg-pole processes (sim backend) and compare their lamp decisions with the virtual run of the same window.")
    var live = false

    @Option(help: "With --live: a pole's data directory, POLE=DIR (repeatable), or a directory holding one folder per pole, named by its id (its data directory, or a folder with the data directory in data/). Every pole of the route must be given.")
    var poleData: [String] = []

    @Option(help: "With --live: the window's length in seconds (5–3600).")
    var window: Double = 120

    @Option(help: "With --live: how much later than in the virtual run a decision may show live, in seconds (the live path's latency; with --network-draws, the pole's own reaction, which the simulator does not model).")
    var tolerance: Double = 0.5

    @Option(help: "With --live: how often the poles' PWM outputs are sampled, in milliseconds (1–100).")
    var sampleMs: Double = 10

    @Flag(help: "With --live: only compute the window (road users, line edges, the virtual run's decisions) and print it; no poles are needed.")
    var dryRun = false

    @Option(help: "With --live: how long to wait for the live lamps to be where the virtual run has them before the window, in seconds.")
    var settleTimeout: Double = 60

    @Option(help: "With --live: judge by the light ahead of the road users, not decision by decision: the live light-ahead ratio must lie within what this many virtual runs of the window predict (10–10000), runs that differ only in the network's luck. The network is the traffic model's (--latency/--loss override it), not a fixed loopback path: for a live path with random latency and loss (tc netem), where decisions cannot match one to one.")
    var networkDraws: Int = 0

    func run() throws {
        do {
            if live { return try runLive() }
            try simulate()
        } catch let error as SimInputError {
            printError("lichtweg sim: \(error.message)")
            throw ExitCode(2)
        }
    }

    struct SimInputError: Error { var message: String }

    private func simulate() throws {
        // MARK: Inputs — everything is checked before anything runs.
        guard (1...3660).contains(nights) else { throw SimInputError(message: "--nights \(nights) must be 1–3660") }
        if let threads, !(1...256).contains(threads) { throw SimInputError(message: "--threads \(threads) must be 1–256") }
        if let latency, !(0...600).contains(latency) { throw SimInputError(message: "--latency \(latency) s must be 0–600") }
        if let loss, !(0...1).contains(loss) { throw SimInputError(message: "--loss \(loss) must be a probability 0–1") }
        let profile = try loadProfile()
        var model = try loadModel(for: profile)
        if idealSensors { model = model.withIdealSensors }
        if let latency { model.network = model.network.withLatencyMedian(latency) }
        if let loss { model.network.loss = loss }
        let zone = ZoneRules(identifier: profile.route.timeZone) ?? .utc
        let first: LocalDate
        if let from {
            guard let d = LocalDate(iso: from) else { throw SimInputError(message: "--from '\(from)' is not a date YYYY-MM-DD") }
            first = d
        } else {
            first = zone.local(Instant(secondsSinceEpoch: Date().timeIntervalSince1970)).date
        }
        let metricNames = Set(SimulationSummary(profile: profile, model: model, seed: seed, from: first).metrics.keys)
        var gates: [Assertion] = []
        for text in assertions {
            do { gates.append(try Assertion(parsing: text, known: metricNames)) } catch let error as Assertion.ParseError {
                throw SimInputError(message: error.description)
            }
        }

        // MARK: Run
        let dates = (0..<nights).map { first.adding(days: $0) }
        var simulator = RouteSimulator(profile: profile, model: model, seed: seed,
                                       parallelism: threads ?? RouteSimulator.defaultParallelism)
        var summary = SimulationSummary(profile: profile, model: model, seed: seed, from: first)
        var showcase: (record: NightRecord, analysis: LightAheadAnalysis, score: Double)?
        var ratios: [Double] = []
        let progress = ProgressBar(total: nights, enabled: !noProgress && nights > 1 && isatty(STDERR_FILENO) == 1)
        let clock = ContinuousClock()
        let started = clock.now
        simulator.run(nights: dates) { record in
            let analysis = record.lightAhead(profile: profile, model: model)
            summary.add(record, analysis: analysis, profile: profile)
            if report != nil {
                ratios += analysis.users.filter { $0.exposedSeconds > 0 }.map(\.ratio)
                // Show the night with the most darkness; among dark-free nights the busiest.
                let score = analysis.darkSeconds * 1e6 + Double(record.users.count)
                if score > (showcase?.score ?? -1) { showcase = (record, analysis, score) }
            }
            progress.advance(label: record.date.description)
        }
        let elapsed = started.duration(to: clock.now)
        summary.finish(wallSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18,
                       eventsByKind: simulator.eventsByKind)
        progress.finish()

        // MARK: Output
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(SimText.render(summary, profile: profile))
        }
        if let report, let showcase {
            let command = (["lichtweg"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
            let files = SimReport.render(summary: summary, showcase: showcase.record, showcaseAnalysis: showcase.analysis,
                                         userRatios: ratios, profile: profile, model: model, command: command)
            try writeReport(files, to: report)
            printError("report written to \(report)/report.md")
        }

        if !Self.check(gates, against: summary.metrics) { throw ExitCode(1) }
    }

    /// Prints each `--assert` gate's outcome; false if any failed.
    static func check(_ gates: [Assertion], against values: [String: Double]) -> Bool {
        var held = true
        for gate in gates {
            let actual = values[gate.metric] ?? .nan
            if gate.holds(for: actual) {
                printError("assert \(gate): ok (\(SimText.number(actual)))")
            } else {
                printError("assert \(gate): FAILED — \(gate.metric) is \(SimText.number(actual))")
                held = false
            }
        }
        return held
    }

    /// `--profile`, loaded and validated; its problems printed, each with file, line and field.
    func loadProfile() throws -> Profile {
        switch ProfileFiles.load(self.profile) {
        case let .success(p): return p
        case let .failure(problems):
            for d in problems.diagnostics { printError(d.description) }
            throw SimInputError(message: "the profile \(self.profile) is not valid")
        }
    }

    /// The traffic model (`--traffic` or the default beside the profile), scaled by `--traffic-scale`.
    func loadModel(for profile: Profile) throws -> SimulationModel {
        guard trafficScale >= 0 && trafficScale <= 10_000 else {
            throw SimInputError(message: "--traffic-scale \(trafficScale) must be 0–10000")
        }
        var model = try loadUnscaledModel(for: profile)
        if trafficScale != 1 {
            for kind in model.users.keys { model.users[kind]!.hourly = model.users[kind]!.hourly.map { $0 * trafficScale } }
            model.name += String(format: ", traffic × %g", trafficScale)
        }
        return model
    }

    private func loadUnscaledModel(for profile: Profile) throws -> SimulationModel {
        let profileDir = (self.profile as NSString).deletingLastPathComponent
        let trafficDir = ((profileDir.isEmpty ? "." : profileDir) as NSString).appendingPathComponent("traffic")
        let routeModel = (trafficDir as NSString).appendingPathComponent("\(profile.route.id).yaml")
        let defaultModel = (trafficDir as NSString).appendingPathComponent("rural-night.yaml")
        let base = FileManager.default.fileExists(atPath: routeModel) ? routeModel : defaultModel

        func read(_ path: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw SimInputError(message: "cannot read \(path)")
            }
            return text
        }
        func model(_ path: String) throws -> SimulationModel {
            switch SimulationModelLoader.load(try read(path), file: path) {
            case let .success(m): return m
            case let .failure(problems):
                for d in problems.diagnostics { printError(d.description) }
                throw SimInputError(message: "the traffic model \(path) is not valid")
            }
        }
        guard let traffic else { return try model(base) }
        if traffic.hasSuffix(".csv") {
            switch SimulationModelLoader.loadCounts(try read(traffic), file: traffic) {
            case let .success(counts):
                var m = try model(base).withHourlyCounts(counts)
                m.name += " with hourly counts from \((traffic as NSString).lastPathComponent)"
                return m
            case let .failure(problems):
                for d in problems.diagnostics { printError(d.description) }
                throw SimInputError(message: "the traffic count \(traffic) is not valid")
            }
        }
        return try model(traffic)
    }

    private func writeReport(_ files: [(name: String, contents: String)], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in files {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(file.name)
            try Data(file.contents.utf8).write(to: url, options: .atomic)
        }
    }
}

// MARK: - Terminal output

enum SimText {
    static func number(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e15 { return String(Int(v)) }
        return String(format: abs(v) < 10 ? "%.4f" : "%.1f", v)
    }

    static func render(_ s: SimulationSummary, profile: Profile) -> String {
        func pct(_ v: Double) -> String { String(format: "%.1f %%", v * 100) }
        var lines: [String] = []
        let users = s.usersByKind.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)s" }.joined(separator: ", ")
        lines.append("\(profile.route.name) — \(profile.route.poles.count) poles, profile version \(s.profileVersion)")
        lines.append("\(s.nights) night(s) from \(s.from), seed \(s.seed), \(s.model)\(s.idealSensors ? ", ideal sensors" : "")")
        lines.append("  road users        \(users.isEmpty ? "none" : users)")
        lines.append(String(format: "  energy            %.2f kWh   (full light %.2f kWh: %@ saved; schedule alone %.2f kWh: %@)",
                            s.energyKWh, s.baselineFullKWh, pct(s.savingsVsFull), s.baselineScheduleKWh,
                            pct(s.savingsVsSchedule)))
        lines.append(String(format: "  CO2               %.1f kg   (%.1f kg less than full light; %.0f g/kWh)",
                            s.co2Kg, s.co2SavedVsFullKg, s.co2GramsPerKWh))
        lines.append(String(format: "  dark exposure     %.1f s     light ahead %.4f of %.0f road-user seconds; %d users with darkness",
                            s.darkExposureSeconds, s.lightAheadRatio, s.exposedSeconds, s.usersWithDarkness))
        if let w = s.worstUser {
            lines.append(String(format: "  worst road user   %@ entering %@ at %@, %.0f km/h%@: %.1f s dark",
                                w.kind, w.from, w.entered, w.speedKmh,
                                w.stopped ? ", stopped" : (w.turnedBack ? ", turned back" : ""), w.darkSeconds))
        }
        lines.append(String(format: "  switching cycles  %.1f per lamp and night (max %d)", s.switchCyclesPerLampNight,
                            s.maxSwitchCyclesPerLampNight))
        lines.append(String(format: "  engine            %d events in %.2f s wall for %.0f s simulated: %.0f events/s, speed-up %.3g×",
                            s.events, s.wallSeconds, s.simulatedSeconds, s.eventsPerSecond, s.speedup))
        return lines.joined(separator: "\n")
    }
}

/// A progress bar on standard error, drawn only on an interactive terminal.
final class ProgressBar {
    private let total: Int
    private let enabled: Bool
    private var done = 0

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    func advance(label: String) {
        done += 1
        guard enabled else { return }
        let width = 30
        let filled = width * done / max(1, total)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r  [\(bar)] \(done)/\(total) nights  \(label)".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
