import LightCore
import ProfileFormat

/// Reads simulation models (`lichtweg-traffic/1` YAML) and hourly traffic counts (CSV), reporting
/// problems as `FILE:LINE: field.path: message` like the profile loader.
public enum SimulationModelLoader {
    public static let format = "lichtweg-traffic/1"

    /// The model in `text`, or every problem found in it.
    public static func load(_ text: String, file: String) -> Result<SimulationModel, ProfileDiagnostics> {
        let root: Node
        do {
            guard let node = try YAMLComposer.compose(text) else {
                return .failure(ProfileDiagnostics([ProfileDiagnostic(file: file, line: 1, path: "", message: "the document is empty")]))
            }
            root = node
        } catch {
            return .failure(ProfileDiagnostics([ProfileLoader.syntaxDiagnostic(error, file: file, text: text)]))
        }
        let reader = NodeReader()
        let model = decode(root, reader)
        let diagnostics = reader.issues.map { ProfileDiagnostic(file: file, line: $0.line, path: $0.path, message: $0.message) }
        if let model, diagnostics.isEmpty { return .success(model) }
        return .failure(ProfileDiagnostics(diagnostics.isEmpty
            ? [ProfileDiagnostic(file: file, line: 1, path: "", message: "the model could not be read")] : diagnostics))
    }

    // MARK: - Decoding

    private static func decode(_ root: Node, _ r: NodeReader) -> SimulationModel? {
        guard let f = r.fields(root, "", required: ["format", "name", "source", "users", "sensors", "network", "co2"])
        else { return nil }
        if let node = f["format"], let text = r.string(node, "format"), text != format {
            r.report(node, "format", "unsupported format '\(text)' (this version reads \(format))")
        }
        let name = f["name"].flatMap { r.string($0, "name") }
        let source = f["source"].flatMap { r.string($0, "source") }
        var users: [RoadUserKind: RoadUserModel]? = [:]
        if let node = f["users"], let fields = r.fields(node, "users", required: [], optional: RoadUserKind.allCases.map(\.rawValue)) {
            for kind in RoadUserKind.allCases {
                guard let n = fields[kind.rawValue] else { continue }
                if let m = user(n, "users.\(kind.rawValue)", r) { users?[kind] = m } else { users = nil }
            }
        } else { users = nil }
        let sensors = f["sensors"].flatMap { self.sensors($0, r) }
        let network = f["network"].flatMap { self.network($0, r) }
        var co2: (Double, String)?
        if let node = f["co2"], let c = r.fields(node, "co2", required: ["gramsPerKWh", "source"]) {
            if let g = c["gramsPerKWh"].flatMap({ r.double($0, "co2.gramsPerKWh", in: 0...2000) }),
               let s = c["source"].flatMap({ r.string($0, "co2.source") }) { co2 = (g, s) }
        }
        guard let name, let source, let users, let sensors, let network, let co2 else { return nil }
        return SimulationModel(name: name, source: source, users: users, sensors: sensors, network: network,
                               co2GramsPerKWh: co2.0, co2Source: co2.1)
    }

    private static func probability(_ node: Node, _ path: String, _ r: NodeReader) -> Double? {
        r.double(node, path, in: 0...1)
    }

    private static func user(_ node: Node, _ path: String, _ r: NodeReader) -> RoadUserModel? {
        guard let f = r.fields(node, path, required: ["hourly", "speed", "sight", "approachMetres"],
                               optional: ["stopProbability", "stopSeconds", "turnBackProbability"])
        else { return nil }
        var hourly: [Double]? = nil
        if let n = f["hourly"], let items = r.items(n, "\(path).hourly") {
            if items.count != 24 {
                r.report(n, "\(path).hourly", "needs 24 values (road users per hour from 00:00 to 23:00), found \(items.count)")
            } else {
                let values = items.compactMap { r.double($0.node, $0.path, in: 0...10_000, unit: "/h") }
                if values.count == 24 { hourly = values }
            }
        }
        var speed: SpeedDistribution?
        if let n = f["speed"], let s = r.fields(n, "\(path).speed", required: ["mean", "sd", "min", "max"]) {
            let v = ["mean", "sd", "min", "max"].map { k in s[k].flatMap { r.double($0, "\(path).speed.\(k)", in: 0...100, unit: " m/s") } }
            if let mean = v[0], let sd = v[1], let lo = v[2], let hi = v[3] {
                if lo <= 0 || lo > hi || mean < lo || mean > hi {
                    r.report(n, "\(path).speed", "needs 0 < min ≤ mean ≤ max, found min \(lo), mean \(mean), max \(hi)")
                } else {
                    speed = SpeedDistribution(mean: mean, sd: sd, min: lo, max: hi)
                }
            }
        }
        var sight: StoppingSight?
        if let n = f["sight"], let s = r.fields(n, "\(path).sight", required: ["minimum", "reactionSeconds", "deceleration"]) {
            let m = s["minimum"].flatMap { r.double($0, "\(path).sight.minimum", in: 0...500, unit: " m") }
            let t = s["reactionSeconds"].flatMap { r.double($0, "\(path).sight.reactionSeconds", in: 0...10, unit: " s") }
            let a = s["deceleration"].flatMap { r.double($0, "\(path).sight.deceleration", in: 0.1...15, unit: " m/s²") }
            if let m, let t, let a { sight = StoppingSight(minimum: m, reactionSeconds: t, deceleration: a) }
        }
        let approach = f["approachMetres"].flatMap { r.double($0, "\(path).approachMetres", in: 0...2000, unit: " m") }
        var ok = true
        let stop = f["stopProbability"].map { probability($0, "\(path).stopProbability", r) } ?? 0
        let turn = f["turnBackProbability"].map { probability($0, "\(path).turnBackProbability", r) } ?? 0
        if stop == nil || turn == nil { ok = false }
        var stopSeconds: ClosedRange<Double>? = 0...0
        if let n = f["stopSeconds"], let s = r.fields(n, "\(path).stopSeconds", required: ["min", "max"]) {
            let lo = s["min"].flatMap { r.double($0, "\(path).stopSeconds.min", in: 0...86_400, unit: " s") }
            let hi = s["max"].flatMap { r.double($0, "\(path).stopSeconds.max", in: 0...86_400, unit: " s") }
            if let lo, let hi, lo <= hi { stopSeconds = lo...hi } else {
                if let lo, let hi { r.report(n, "\(path).stopSeconds", "min \(lo) is more than max \(hi)") }
                stopSeconds = nil
            }
        }
        guard ok, let hourly, let speed, let sight, let approach, let stop, let turn, let stopSeconds else { return nil }
        return RoadUserModel(hourly: hourly, speed: speed, stopProbability: stop, stopSeconds: stopSeconds,
                             turnBackProbability: turn, sight: sight, approachMetres: approach)
    }

    private static func perSensorKind(_ node: Node, _ path: String, _ r: NodeReader,
                                      _ read: (Node, String) -> Double?) -> [Sensor.Kind: Double]? {
        guard let f = r.fields(node, path, required: Sensor.Kind.allCases.map(\.rawValue)) else { return nil }
        var result: [Sensor.Kind: Double] = [:]
        for kind in Sensor.Kind.allCases {
            guard let n = f[kind.rawValue], let v = read(n, "\(path).\(kind.rawValue)") else { return nil }
            result[kind] = v
        }
        return result
    }

    private static func sensors(_ node: Node, _ r: NodeReader) -> SensorPhysics? {
        let path = "sensors"
        guard let f = r.fields(node, path, required: [
            "missProbability", "slowExtraMiss", "slowSpeed", "falseTriggersPerHour", "holdSeconds", "angleDegrees",
            "lateralOffset", "seesStationary",
        ]) else { return nil }
        var miss: [Sensor.Kind: [RoadUserKind: Double]]? = [:]
        if let n = f["missProbability"], let m = r.fields(n, "\(path).missProbability", required: Sensor.Kind.allCases.map(\.rawValue)) {
            for kind in Sensor.Kind.allCases {
                guard let k = m[kind.rawValue],
                      let byUser = r.fields(k, "\(path).missProbability.\(kind.rawValue)", required: RoadUserKind.allCases.map(\.rawValue))
                else { miss = nil; continue }
                for user in RoadUserKind.allCases {
                    if let v = byUser[user.rawValue].flatMap({ probability($0, "\(path).missProbability.\(kind.rawValue).\(user.rawValue)", r) }) {
                        miss?[kind, default: [:]][user] = v
                    } else { miss = nil }
                }
            }
        } else { miss = nil }
        let slowExtra = f["slowExtraMiss"].flatMap { perSensorKind($0, "\(path).slowExtraMiss", r) { probability($0, $1, r) } }
        let slowSpeed = f["slowSpeed"].flatMap { r.double($0, "\(path).slowSpeed", in: 0...10, unit: " m/s") }
        let falseRate = f["falseTriggersPerHour"].flatMap {
            perSensorKind($0, "\(path).falseTriggersPerHour", r) { r.double($0, $1, in: 0...3600, unit: "/h") }
        }
        let hold = f["holdSeconds"].flatMap { perSensorKind($0, "\(path).holdSeconds", r) { r.double($0, $1, in: 0...600, unit: " s") } }
        let angle = f["angleDegrees"].flatMap { perSensorKind($0, "\(path).angleDegrees", r) { r.double($0, $1, in: 1...180, unit: "°") } }
        let lateral = f["lateralOffset"].flatMap { r.double($0, "\(path).lateralOffset", in: 0...50, unit: " m") }
        let stationary = f["seesStationary"].flatMap { r.bool($0, "\(path).seesStationary") }
        guard let miss, let slowExtra, let slowSpeed, let falseRate, let hold, let angle, let lateral, let stationary
        else { return nil }
        return SensorPhysics(missProbability: miss, slowExtraMiss: slowExtra, slowSpeed: slowSpeed,
                             falseTriggersPerHour: falseRate, holdSeconds: hold, angleDegrees: angle,
                             lateralOffset: lateral, seesStationary: stationary)
    }

    private static func network(_ node: Node, _ r: NodeReader) -> NetworkModel? {
        // Either a log-normal (median and 95th percentile) or measured latencies, not both.
        guard let f = r.fields(node, "network", required: ["loss"],
                               optional: ["latencyMedianSeconds", "latencyP95Seconds", "latencySamplesSeconds"]) else { return nil }
        let loss = f["loss"].flatMap { probability($0, "network.loss", r) }
        if let samplesNode = f["latencySamplesSeconds"] {
            for key in ["latencyMedianSeconds", "latencyP95Seconds"] where f[key] != nil {
                r.report(f[key]!, "network.\(key)", "not with latencySamplesSeconds: the measured latencies give the distribution")
                return nil
            }
            guard let items = r.items(samplesNode, "network.latencySamplesSeconds") else { return nil }
            guard !items.isEmpty else {
                r.report(samplesNode, "network.latencySamplesSeconds", "needs at least one latency")
                return nil
            }
            let samples = items.compactMap { r.double($0.node, $0.path, in: 0...600, unit: " s") }
            guard samples.count == items.count, let loss else { return nil }
            return NetworkModel(latencySamples: samples, loss: loss)
        }
        let missing = ["latencyMedianSeconds", "latencyP95Seconds"].filter { f[$0] == nil }
        if let first = missing.first {
            r.report(node, "network.\(first)", "missing required field" + (missing.count == 2 ? "s " : " ")
                     + missing.map { "'\($0)'" }.joined(separator: " and ") + " (or give latencySamplesSeconds)")
            return nil
        }
        let median = f["latencyMedianSeconds"].flatMap { r.double($0, "network.latencyMedianSeconds", in: 0...60, unit: " s") }
        let p95 = f["latencyP95Seconds"].flatMap { r.double($0, "network.latencyP95Seconds", in: 0...600, unit: " s") }
        guard let median, let p95, let loss else { return nil }
        if p95 < median {
            r.report(f["latencyP95Seconds"], "network.latencyP95Seconds", "the 95th percentile \(p95) s is below the median \(median) s")
            return nil
        }
        return NetworkModel(latencyMedian: median, latencyP95: p95, loss: loss)
    }

    // MARK: - Traffic counts

    /// Hourly counts from a CSV traffic count: a header `hour,pedestrian,cyclist,car` (any subset
    /// of the kinds, any order) and one row per hour 0–23.
    public static func loadCounts(_ text: String, file: String) -> Result<[RoadUserKind: [Double]], ProfileDiagnostics> {
        var problems: [ProfileDiagnostic] = []
        func fail(_ line: Int, _ path: String, _ message: String) {
            problems.append(ProfileDiagnostic(file: file, line: line, path: path, message: message))
        }
        // Spreadsheets write CRLF, which Swift reads as one character: split on any line end.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        guard let headerIndex = lines.firstIndex(where: { !$0.isEmpty && !$0.hasPrefix("#") }) else {
            return .failure(ProfileDiagnostics([ProfileDiagnostic(file: file, line: 1, path: "", message: "no header line 'hour,pedestrian,cyclist,car'")]))
        }
        let header = lines[headerIndex].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard header.first == "hour", header.count >= 2 else {
            return .failure(ProfileDiagnostics([ProfileDiagnostic(file: file, line: headerIndex + 1, path: "header",
                                                                  message: "the first column must be 'hour', then road-user kinds (pedestrian, cyclist, car)")]))
        }
        // Which column holds which kind.
        var columns: [(column: Int, kind: RoadUserKind)] = []
        for (column, name) in header.enumerated().dropFirst() {
            guard let kind = RoadUserKind(rawValue: name) else {
                fail(headerIndex + 1, "header", "unknown road-user kind '\(name)' (pedestrian, cyclist, car)")
                continue
            }
            if columns.contains(where: { $0.kind == kind }) {
                fail(headerIndex + 1, "header", "road-user kind '\(name)' appears twice")
                continue
            }
            columns.append((column, kind))
        }
        var counts: [RoadUserKind: [Double?]] = [:]
        for (_, kind) in columns { counts[kind] = Array(repeating: nil, count: 24) }
        var seenHours: Set<Int> = []
        var lastLine = headerIndex + 1
        for (i, line) in lines.enumerated() where i > headerIndex && !line.isEmpty && !line.hasPrefix("#") {
            lastLine = i + 1
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == header.count else {
                fail(i + 1, "row", "expected \(header.count) columns, found \(cells.count)")
                continue
            }
            guard let hour = Int(cells[0]), (0...23).contains(hour) else {
                fail(i + 1, "hour", "'\(cells[0])' is not an hour 0–23")
                continue
            }
            if !seenHours.insert(hour).inserted { fail(i + 1, "hour", "hour \(hour) appears twice") }
            for (column, kind) in columns {
                guard let v = Double(cells[column]), v >= 0, v.isFinite else {
                    fail(i + 1, kind.rawValue, "'\(cells[column])' is not a count ≥ 0")
                    continue
                }
                counts[kind]![hour] = v
            }
        }
        let missing = (0..<24).filter { !seenHours.contains($0) }
        if !missing.isEmpty && problems.isEmpty {
            fail(lastLine, "hour", "no row for hour(s) \(missing.map(String.init).joined(separator: ", "))")
        }
        if !problems.isEmpty { return .failure(ProfileDiagnostics(problems)) }
        return .success(counts.mapValues { $0.map { $0 ?? 0 } })
    }
}
