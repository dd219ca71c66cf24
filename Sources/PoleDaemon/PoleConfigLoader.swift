import LightCore
import PoleIO
import PoleProtocol
import ProfileFormat

/// Reads `pole.yaml` and reports every problem as `FILE:LINE: field: message`, like profiles.
public enum PoleConfigLoader {
    public static let format = "lichtweg-pole/1"

    public static func load(_ text: String, file: String) -> Result<PoleConfig, ProfileDiagnostics> {
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
        let config = decode(root, reader)
        let diagnostics = reader.issues.map { ProfileDiagnostic(file: file, line: $0.line, path: $0.path, message: $0.message) }
            .sorted { ($0.line ?? 0, $0.path) < ($1.line ?? 0, $1.path) }
        if let config, diagnostics.isEmpty { return .success(config) }
        return .failure(ProfileDiagnostics(diagnostics))
    }

    // MARK: - Decoding

    private static func decode(_ root: Node, _ r: NodeReader) -> PoleConfig? {
        guard let f = r.fields(root, "", required: ["format", "pole", "route", "dataDirectory", "profileKey", "mqtt", "gpio", "pwm"],
                               optional: ["backend", "location", "telemetrySeconds", "outboxCapacity"])
        else { return nil }
        if let n = f["format"], let format = r.string(n, "format"), format != Self.format {
            r.report(n, "format", "'\(format)' is not '\(Self.format)'")
        }
        let pole = f["pole"].flatMap { Self.id($0, "pole", r, valid: ProfileValidator.isPoleIdentifier,
                                               rule: "letters, digits, '-', '_' and '.', as in the route profile") }
        let route = f["route"].flatMap { Self.id($0, "route", r, valid: ProfileValidator.isIdentifier,
                                                 rule: "lower-case letters, digits and '-', as in the route profile") }
        let backend = f["backend"].map { r.choice($0, "backend", [("gpiod", PoleConfig.Backend.gpiod), ("sim", .sim)]) } ?? .gpiod
        let dataDirectory = f["dataDirectory"].flatMap { path($0, "dataDirectory", r) }
        let profileKey = f["profileKey"].flatMap { path($0, "profileKey", r) }
        let mqtt = f["mqtt"].flatMap { Self.mqtt($0, r) }
        let gpio = f["gpio"].flatMap { Self.gpio($0, r) }
        let pwm = f["pwm"].flatMap { Self.pwm($0, r) }
        var location: GeoPoint?
        if let n = f["location"], let l = r.fields(n, "location", required: ["lat", "lon"]) {
            if let lat = l["lat"].flatMap({ r.double($0, "location.lat", in: -90...90) }),
               let lon = l["lon"].flatMap({ r.double($0, "location.lon", in: -180...180) }) {
                location = GeoPoint(latitude: lat, longitude: lon)
            }
        }
        let telemetry = f["telemetrySeconds"].map { r.double($0, "telemetrySeconds", in: 1...86_400, unit: " s") } ?? 300
        let outbox = f["outboxCapacity"].map { r.int($0, "outboxCapacity", in: 1...100_000) } ?? 1000
        guard let pole, let route, let backend, let dataDirectory, let profileKey, let mqtt, let gpio, let pwm,
              let telemetry, let outbox else { return nil }
        var config = PoleConfig(pole: pole, route: route, backend: backend, dataDirectory: dataDirectory,
                                profileKey: profileKey, mqtt: mqtt, gpio: gpio, pwm: pwm, location: location)
        config.telemetrySeconds = telemetry
        config.outboxCapacity = outbox
        return config
    }

    /// An id the profile can have (else no profile could ever be accepted) and that can be an
    /// MQTT topic level.
    private static func id(_ node: Node, _ p: String, _ r: NodeReader, valid: (String) -> Bool, rule: String) -> String? {
        guard let s = r.string(node, p) else { return nil }
        guard valid(s), Topics.isValidLevel(s) else {
            r.report(node, p, "'\(s)' is not a valid id (\(rule); at most 64 characters)")
            return nil
        }
        return s
    }

    private static func path(_ node: Node, _ p: String, _ r: NodeReader) -> String? {
        guard let s = r.string(node, p) else { return nil }
        guard s.hasPrefix("/") || s.hasPrefix(".") else {
            r.report(node, p, "'\(s)' must be a path (absolute, or relative starting with ./)")
            return nil
        }
        return s
    }

    private static func mqtt(_ node: Node, _ r: NodeReader) -> PoleConfig.MQTT? {
        guard let f = r.fields(node, "mqtt", required: ["url"],
                               optional: ["caFile", "certFile", "keyFile", "credentialsFile", "keepAliveSeconds"])
        else { return nil }
        var result: PoleConfig.MQTT?
        if let n = f["url"], let url = r.string(n, "mqtt.url") {
            result = parseURL(url)
            if result == nil { r.report(n, "mqtt.url", "'\(url)' is not mqtt://HOST[:PORT] or mqtts://HOST[:PORT]") }
        }
        result?.caFile = f["caFile"].flatMap { path($0, "mqtt.caFile", r) }
        result?.certFile = f["certFile"].flatMap { path($0, "mqtt.certFile", r) }
        result?.keyFile = f["keyFile"].flatMap { path($0, "mqtt.keyFile", r) }
        result?.credentialsFile = f["credentialsFile"].flatMap { path($0, "mqtt.credentialsFile", r) }
        if let n = f["keepAliveSeconds"], let k = r.int(n, "mqtt.keepAliveSeconds", in: 5...3600) { result?.keepAliveSeconds = k }
        if let m = result {
            if m.tls && m.caFile == nil { r.report(node, "mqtt.caFile", "mqtts:// needs caFile (the CA that signed the broker's certificate)") }
            if !m.tls && (m.caFile != nil || m.certFile != nil) { r.report(f["caFile"] ?? f["certFile"], "mqtt.url", "TLS files given, but the URL is mqtt:// (use mqtts://)") }
            if (m.certFile == nil) != (m.keyFile == nil) { r.report(f["certFile"] ?? f["keyFile"], "mqtt.certFile", "certFile and keyFile go together") }
        }
        return result
    }

    /// `mqtt://host[:port]` or `mqtts://host[:port]`; IPv6 in brackets.
    static func parseURL(_ url: String) -> PoleConfig.MQTT? {
        let tls: Bool
        let rest: Substring
        if url.hasPrefix("mqtts://") { tls = true; rest = url.dropFirst(8) } else if url.hasPrefix("mqtt://") { tls = false; rest = url.dropFirst(7) } else { return nil }
        var hostPart = rest
        if hostPart.hasSuffix("/") { hostPart = hostPart.dropLast() }
        var host: Substring
        var port = tls ? 8883 : 1883
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { return nil }
            host = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
            let after = hostPart[hostPart.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
        } else if let colon = hostPart.firstIndex(of: ":") {
            // An IPv6 address needs brackets: a second ':' is not a port separator.
            host = hostPart[..<colon]
            let portText = hostPart[hostPart.index(after: colon)...]
            guard !portText.contains(":"), let p = Int(portText) else { return nil }
            port = p
        } else {
            host = hostPart
        }
        guard !host.isEmpty, !host.contains("/"), !host.contains("@"), (1...65_535).contains(port) else { return nil }
        return PoleConfig.MQTT(host: String(host), port: port, tls: tls)
    }

    private static func line(_ node: Node, _ p: String, _ r: NodeReader, role: String) -> PoleConfig.SensorLine? {
        let required = role == "sensor" ? ["id", "line"] : ["line"]
        guard let f = r.fields(node, p, required: required, optional: ["bias", "activeLow"]) else { return nil }
        let id = role == "sensor" ? f["id"].flatMap { r.string($0, "\(p).id") } : role
        let offset = f["line"].flatMap { r.int($0, "\(p).line", in: 0...1023) }
        let bias = f["bias"].map { r.choice($0, "\(p).bias", LineBias.allCases.map { ($0.rawValue, $0) }) } ?? .asIs
        let activeLow = f["activeLow"].map { r.bool($0, "\(p).activeLow") } ?? false
        guard let id, let offset, let bias, let activeLow else { return nil }
        return PoleConfig.SensorLine(id: id, line: UInt32(offset), bias: bias, activeLow: activeLow)
    }

    private static func gpio(_ node: Node, _ r: NodeReader) -> PoleConfig.GPIO? {
        guard let f = r.fields(node, "gpio", required: ["chip", "sensors"], optional: ["relay", "lampFeedback"]) else { return nil }
        let chip = f["chip"].flatMap { r.string($0, "gpio.chip") }
        var sensors: [PoleConfig.SensorLine] = []
        var ok = true
        if let n = f["sensors"], let items = r.items(n, "gpio.sensors") {
            for (p, item) in items {
                if let s = Self.line(item, p, r, role: "sensor") { sensors.append(s) } else { ok = false }
            }
        } else { ok = false }
        var relay: PoleConfig.OutputLine?
        if let n = f["relay"], let rf = r.fields(n, "gpio.relay", required: ["line"], optional: ["activeLow"]) {
            let offset = rf["line"].flatMap { r.int($0, "gpio.relay.line", in: 0...1023) }
            let low = rf["activeLow"].map { r.bool($0, "gpio.relay.activeLow") } ?? false
            if let offset, let low { relay = PoleConfig.OutputLine(line: UInt32(offset), activeLow: low) } else { ok = false }
        }
        let feedback = f["lampFeedback"].flatMap { Self.line($0, "gpio.lampFeedback", r, role: "lampFeedback") }
        if f["lampFeedback"] != nil && feedback == nil { ok = false }
        // Two functions on one line would request it twice: the kernel refuses the second.
        var seen: [UInt32: String] = [:]
        let all = sensors.map { ($0.line, "sensor \($0.id)") } + (relay.map { [($0.line, "relay")] } ?? [])
            + (feedback.map { [($0.line, "lampFeedback")] } ?? [])
        for (offset, what) in all {
            if let other = seen[offset] { r.report(node, "gpio", "line \(offset) is used twice (\(other) and \(what))"); ok = false }
            seen[offset] = what
        }
        var ids = Set<String>()
        for s in sensors where !ids.insert(s.id).inserted { r.report(f["sensors"], "gpio.sensors", "sensor '\(s.id)' is listed twice"); ok = false }
        guard let chip, ok else { return nil }
        return PoleConfig.GPIO(chip: chip, sensors: sensors, relay: relay, lampFeedback: feedback)
    }

    private static func pwm(_ node: Node, _ r: NodeReader) -> PoleConfig.PWM? {
        guard let f = r.fields(node, "pwm", required: ["chip", "channel"],
                               optional: ["frequencyHz", "polarity", "rampStepHz"]) else { return nil }
        let chip = f["chip"].flatMap { r.int($0, "pwm.chip", in: 0...63) }
        let channel = f["channel"].flatMap { r.int($0, "pwm.channel", in: 0...15) }
        let frequency = f["frequencyHz"].map { r.double($0, "pwm.frequencyHz", in: 50...100_000, unit: " Hz") } ?? 1000
        let polarity = f["polarity"].map { r.choice($0, "pwm.polarity", SysfsPWM.Polarity.allCases.map { ($0.rawValue, $0) }) } ?? .normal
        let step = f["rampStepHz"].map { r.double($0, "pwm.rampStepHz", in: 1...1000, unit: " Hz") } ?? 100
        guard let chip, let channel, let frequency, let polarity, let step else { return nil }
        return PoleConfig.PWM(chip: chip, channel: channel, frequencyHz: frequency, polarity: polarity, rampStepHz: step)
    }
}
