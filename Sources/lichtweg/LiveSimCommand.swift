import ArgumentParser
import Foundation
import LightCore
import RouteSim

/// `lichtweg sim --live`: the same window of the night, in virtual time and live.
///
/// The road users of a window starting now are generated from the seed and traffic model; the
/// virtual run of exactly that window is computed (`LiveWindow`); the window's sensor line edges
/// are then written in real time into the FIFOs of running `lichtweg-pole` processes (`sim`
/// backend) while their PWM outputs are sampled; and the lamp decisions are compared pole by pole
/// (`DecisionComparison`). The simulator decides nothing itself: both sides are `LightCore`'s
/// `PoleStateMachine`, in this process and in the poles.
extension SimCommand {
    func runLive() throws {
        // MARK: Inputs
        guard (5...3600).contains(window) else { throw SimInputError(message: "--window \(window) s must be 5–3600") }
        guard tolerance > 0 && tolerance <= 10 else { throw SimInputError(message: "--tolerance \(tolerance) s must be above 0 and at most 10") }
        guard (1...100).contains(sampleMs) else { throw SimInputError(message: "--sample-ms \(sampleMs) must be 1–100") }
        guard (0...3600).contains(settleTimeout) else { throw SimInputError(message: "--settle-timeout \(settleTimeout) s must be 0–3600") }
        if let latency, !(0...10).contains(latency) { throw SimInputError(message: "--latency \(latency) s must be 0–10 with --live") }
        if let loss, !(0...1).contains(loss) { throw SimInputError(message: "--loss \(loss) must be a probability 0–1") }
        guard report == nil else { throw SimInputError(message: "--report is not made with --live") }
        guard from == nil else { throw SimInputError(message: "--from does not go with --live: the window starts now") }
        guard !poleData.isEmpty || dryRun else { throw SimInputError(message: "--live needs --pole-data POLE=DIR (or a directory of pole data directories)") }
        let profile = try loadProfile()
        var model = try loadModel(for: profile)
        if idealSensors { model = model.withIdealSensors }
        if networkDraws != 0 {
            guard (10...10_000).contains(networkDraws) else {
                throw SimInputError(message: "--network-draws \(networkDraws) must be 10–10000")
            }
            // The network as modelled (measured latencies, or a log-normal with loss): the
            // prediction is a distribution over its draws.
            if let latency { model.network = model.network.withLatencyMedian(latency) }
            if let loss { model.network.loss = loss }
        } else {
            // The network of the live path: a loopback broker, nothing lost, and the same latency for
            // every notice. With a random spread, a notice's virtual draw far in the tail (80 ms from a
            // 5 ms median, found in CI) made its live decision look 60 ms early: the virtual run is the
            // baseline the live path may only be later than.
            let median = latency ?? 0.005
            model.network = NetworkModel(latencyMedian: median, latencyP95: median, loss: loss ?? 0)
        }
        let gates = try assertions.map { text -> Assertion in
            do { return try Assertion(parsing: text, known: Set(LiveSimSummary.metricNames)) } catch let error as Assertion.ParseError {
                throw SimInputError(message: error.description)
            }
        }
        if dryRun { return try printWindow(profile: profile, model: model) }
        let poles = try openPoles(profile)

        // MARK: Settle: the live lamps where the virtual run has them at the window's start
        let waitUntil = WallClock.now() + settleTimeout
        var lead = 1.5
        var plan: LiveWindow
        while true {
            // Starts on a whole second (easy to read), far enough ahead to be computed in time.
            let start = (WallClock.now() + lead).rounded(.up)
            plan = LiveWindow.compute(profile: profile, model: model, seed: seed,
                                      start: Instant(secondsSinceEpoch: start), duration: window)
            try checkNight(profile: profile, start: plan.start, end: plan.end)
            if WallClock.now() > start - 0.3 {
                lead *= 2  // the computation took too long to start on time: again, further ahead
                continue
            }
            let wrong = poles.indices.compactMap { i -> String? in
                let want = plan.level(ofPoleAt: i, at: plan.start).percent
                guard let have = poles[i].level() else { return "\(poles[i].id): PWM unreadable" }
                return abs(have - want) <= 1 ? nil : String(format: "%@ at %.1f %% (virtual run: %.1f %%)", poles[i].id, have, want)
            }
            if wrong.isEmpty { break }
            if WallClock.now() >= waitUntil {
                printError("lichtweg sim --live: the live lamps are not where the virtual run has them before the window "
                           + "(waited \(Int(settleTimeout)) s): " + wrong.joined(separator: ", "))
                throw ExitCode(1)
            }
            Thread.sleep(forTimeInterval: 0.5)
        }

        // MARK: Replay in real time, sampling the lamps
        let sampler = LiveSampler(poles: poles, interval: sampleMs / 1000)
        sampler.start()
        let t0 = plan.start.secondsSinceEpoch
        let t1 = plan.end.secondsSinceEpoch
        printError(String(format: "lichtweg sim --live: %d road users, %d line edges over %.0f s from %@; replaying…",
                          plan.users.count, plan.edges.count, window, isoTime(t0)))
        var lateness: [Double] = []
        var lines: [String: Bool] = [:]
        for edge in plan.edges {
            WallClock.sleep(until: edge.time)
            if !poles[edge.pole].setLine(edge.sensor, active: edge.active) {
                printError("lichtweg sim --live: pole \(poles[edge.pole].id): the FIFO took no edge (full or closed)")
            }
            lateness.append(WallClock.now() - edge.time)
            lines["\(edge.pole) \(edge.sensor)"] = edge.active
        }
        WallClock.sleep(until: t1 + tolerance + 0.2)
        let samples = sampler.stop()
        // Leave no line held: road users still in a zone at the window's end are let go.
        for (key, active) in lines where active {
            let parts = key.split(separator: " ", maxSplits: 1).map(String.init)
            poles[Int(parts[0])!].setLine(parts[1], active: false)
        }

        // MARK: Compare
        let seen = samples.map { LampChangeExtractor.changes(ofSamples: $0, mergeGap: plan.mergeGap) }
        let comparison = DecisionComparison(expected: plan.changes, seen: seen, window: t0 ... t1, tolerance: tolerance)
        let light = LiveLightAhead(plan: plan, samples: samples, draws: networkDraws, sampleMs: sampleMs,
                                   replayLateMax: lateness.max() ?? 0, ownReaction: tolerance, network: model.network)
        let summary = LiveSimSummary(plan: plan, comparison: comparison, lightAhead: light, samples: samples,
                                     lateness: lateness, profile: profile, model: model, seed: seed,
                                     tolerance: tolerance, sampleMs: sampleMs)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(summary.text(comparison: comparison, poleIDs: plan.poleIDs, start: t0))
        }
        let held = Self.check(gates, against: summary.metrics)
        if !summary.passed || !held { throw ExitCode(1) }
    }

    /// `--dry-run`: the window that would start now, in virtual time only.
    private func printWindow(profile: Profile, model: SimulationModel) throws {
        let start = (WallClock.now() + 1).rounded(.up)
        let plan = LiveWindow.compute(profile: profile, model: model, seed: seed, start: Instant(secondsSinceEpoch: start),
                                      duration: window)
        try checkNight(profile: profile, start: plan.start, end: plan.end)
        let kinds = Dictionary(grouping: plan.users, by: { "\($0.kind)" }).mapValues(\.count)
        print("window \(isoTime(start)) + \(SimText.number(window)) s, seed \(seed), \(model.name) (virtual run only)")
        print("  road users   \(plan.users.count) " + kinds.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)s" }.joined(separator: ", "))
        print("  line edges   \(plan.edges.count)")
        print("  decisions    \(plan.changes.map(\.count).reduce(0, +)): "
              + plan.poleIDs.enumerated().map { "\($1) \(plan.changes[$0].count)" }.joined(separator: ", "))
        let light = plan.lightAhead()
        print(String(format: "  light ahead  %.4f (dark %.1f s of %.1f s with a pole in sight ahead)", light.ratio,
                     light.darkSeconds, light.exposedSeconds))
        if networkDraws > 0 {
            let range = LiveLightAhead.Range(plan.predictedLightAhead(draws: networkDraws).map(\.ratio))
            print(String(format: "  predicted    %.4f–%.4f (2.5–97.5 %%, median %.4f) over %d draws of the network", range.low,
                         range.high, range.median, networkDraws))
        }
        for (i, changes) in plan.changes.enumerated() {
            for c in changes {
                print(String(format: "    %@ +%7.3f s  %@ %.1f → %.1f %%  (%@)", plan.poleIDs[i], c.time - start,
                             c.rising ? "up  " : "down", c.from, c.to, plan.cause(of: c, atPole: i)))
            }
        }
    }

    /// The live poles in route order, from `--pole-data`.
    private func openPoles(_ profile: Profile) throws -> [LivePole] {
        let ids = profile.route.poles.map(\.id)
        var directories: [String: String] = [:]
        for entry in poleData {
            if let eq = entry.firstIndex(of: "=") {
                let pole = String(entry[..<eq]), dir = String(entry[entry.index(after: eq)...])
                guard ids.contains(pole) else {
                    throw SimInputError(message: "--pole-data \(entry): the route \(profile.route.id) has no pole \(pole)")
                }
                guard directories[pole] == nil else { throw SimInputError(message: "--pole-data: pole \(pole) given twice") }
                directories[pole] = dir
            } else {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: entry, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw SimInputError(message: "--pole-data \(entry): neither POLE=DIR nor a directory")
                }
                for pole in ids where directories[pole] == nil {
                    // DIR/POLE is the data directory, or holds it as DIR/POLE/data (a pole's folder).
                    let dir = (entry as NSString).appendingPathComponent(pole)
                    let nested = (dir as NSString).appendingPathComponent("data")
                    if FileManager.default.fileExists(atPath: (nested as NSString).appendingPathComponent("sim")) {
                        directories[pole] = nested
                    } else if FileManager.default.fileExists(atPath: dir) {
                        directories[pole] = dir
                    }
                }
            }
        }
        let absent = ids.filter { directories[$0] == nil }
        guard absent.isEmpty else {
            throw SimInputError(message: "--pole-data: no data directory for pole(s) \(absent.joined(separator: ", ")); every pole of the route must run live")
        }
        do {
            return try ids.map { try LivePole(id: $0, dataDirectory: directories[$0]!) }
        } catch let error as LivePole.SetupError {
            throw SimInputError(message: error.message)
        }
    }

    /// The window must lie in the lit part of tonight at the route (by day there is nothing to decide).
    private func checkNight(profile: Profile, start: Instant, end: Instant) throws {
        let zone = ZoneRules(identifier: profile.route.timeZone) ?? .utc
        let local = zone.local(start)
        let date = local.secondsOfDay < 12 * 3600 ? local.date.adding(days: -1) : local.date
        let night = NightPlan.make(for: profile, date: date)
        guard night.switchOn <= start && end <= night.switchOff else {
            throw SimInputError(message: "the window \(isoTime(start.secondsSinceEpoch)) + \(Int(window)) s is not within the lit night at the route "
                                + "(switch-on \(isoTime(night.switchOn.secondsSinceEpoch)), switch-off \(isoTime(night.switchOff.secondsSinceEpoch)))")
        }
    }
}

func isoTime(_ t: Double) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date(timeIntervalSince1970: t))
}
