import Foundation
import LightCore
@testable import PoleDaemon
import PoleIO
import Testing

/// The smallest valid configuration; every line number below refers to it.
private let minimal = """
    format: lichtweg-pole/1
    pole: A1
    route: it-road
    dataDirectory: /var/lib/lichtweg
    profileKey: /etc/lichtweg/profile.pub
    mqtt:
      url: mqtt://broker.local
    gpio:
      chip: gpiochip0
      sensors:
        - {id: s1, line: 17}
    pwm:
      chip: 0
      channel: 0

    """

private let full = """
    format: lichtweg-pole/1
    pole: BB-001
    route: brandis-beucha
    backend: sim
    dataDirectory: ./data
    profileKey: /etc/lichtweg/profile-signing.pub
    location: {lat: 51.3397, lon: 12.3731}
    mqtt:
      url: mqtts://lichtweg-central.example.org:8884
      caFile: /etc/lichtweg/ca.pem
      certFile: /etc/lichtweg/pole.crt
      keyFile: /etc/lichtweg/pole.key
      credentialsFile: /etc/lichtweg/credentials
      keepAliveSeconds: 20
    gpio:
      chip: gpiochip4
      sensors:
        - {id: a, line: 17, bias: pull-down, activeLow: false}
        - {id: entry, line: 24, bias: pull-up, activeLow: true}
      relay: {line: 22, activeLow: true}
      lampFeedback: {line: 23, bias: disable, activeLow: true}
    pwm:
      chip: 2
      channel: 1
      frequencyHz: 500
      polarity: inversed
      rampStepHz: 50
    telemetrySeconds: 60
    outboxCapacity: 200

    """

/// The diagnostics of loading `text` as `pole.yaml`, each as `FILE:LINE: path: message`.
private func diagnostics(_ text: String) -> [String] {
    switch PoleConfigLoader.load(text, file: "pole.yaml") {
    case .success: []
    case let .failure(d): d.diagnostics.map(\.description)
    }
}

private func replacing(_ old: String, with new: String, in text: String = minimal,
                       sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    try #require(text.contains(old), "'\(old)' is not in the text", sourceLocation: sourceLocation)
    return text.replacingOccurrences(of: old, with: new)
}

@Suite("PoleConfigLoader")
struct PoleConfigLoaderTests {
    /// The package root: three levels above this file.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the example configurations in hw/ load", arguments: ["pole-rpi4.yaml", "pole-rpi5.yaml", "pole-zero2w.yaml"])
    func examples(name: String) throws {
        let path = Self.packageRoot.appendingPathComponent("hw").appendingPathComponent(name).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let config = try PoleConfigLoader.load(text, file: "hw/\(name)").get()
        #expect(config.backend == .gpiod, "the examples are for real hardware")
        #expect(!config.gpio.sensors.isEmpty)
    }

    @Test("every field of a full configuration")
    func fullConfig() throws {
        let config = try PoleConfigLoader.load(full, file: "pole.yaml").get()
        var mqtt = PoleConfig.MQTT(host: "lichtweg-central.example.org", port: 8884, tls: true)
        mqtt.caFile = "/etc/lichtweg/ca.pem"
        mqtt.certFile = "/etc/lichtweg/pole.crt"
        mqtt.keyFile = "/etc/lichtweg/pole.key"
        mqtt.credentialsFile = "/etc/lichtweg/credentials"
        mqtt.keepAliveSeconds = 20
        let gpio = PoleConfig.GPIO(
            chip: "gpiochip4",
            sensors: [
                PoleConfig.SensorLine(id: "a", line: 17, bias: .pullDown, activeLow: false),
                PoleConfig.SensorLine(id: "entry", line: 24, bias: .pullUp, activeLow: true),
            ],
            relay: PoleConfig.OutputLine(line: 22, activeLow: true),
            lampFeedback: PoleConfig.SensorLine(id: "lampFeedback", line: 23, bias: .disable, activeLow: true))
        let pwm = PoleConfig.PWM(chip: 2, channel: 1, frequencyHz: 500, polarity: .inversed, rampStepHz: 50)
        #expect(config.pole == "BB-001")
        #expect(config.route == "brandis-beucha")
        #expect(config.backend == .sim)
        #expect(config.dataDirectory == "./data")
        #expect(config.profileKey == "/etc/lichtweg/profile-signing.pub")
        #expect(config.location == GeoPoint(latitude: 51.3397, longitude: 12.3731))
        #expect(config.mqtt == mqtt)
        #expect(config.gpio == gpio)
        #expect(config.pwm == pwm)
        #expect(config.telemetrySeconds == 60)
        #expect(config.outboxCapacity == 200)
    }

    @Test("the documented defaults")
    func defaults() throws {
        let config = try PoleConfigLoader.load(minimal, file: "pole.yaml").get()
        #expect(config.backend == .gpiod)
        #expect(config.location == nil)
        #expect(config.mqtt == PoleConfig.MQTT(host: "broker.local", port: 1883, tls: false))
        #expect(config.mqtt.keepAliveSeconds == 30)
        #expect(config.gpio == PoleConfig.GPIO(chip: "gpiochip0",
                                               sensors: [.init(id: "s1", line: 17, bias: .asIs, activeLow: false)],
                                               relay: nil, lampFeedback: nil))
        #expect(config.pwm == PoleConfig.PWM(chip: 0, channel: 0, frequencyHz: 1000, polarity: .normal, rampStepHz: 100))
        #expect(config.telemetrySeconds == 300)
        #expect(config.outboxCapacity == 1000)
    }

    // MARK: - Errors, each as FILE:LINE: path: message

    @Test("an unknown top-level key, with a suggestion")
    func unknownTopLevelKey() throws {
        let text = minimal + "telemetrySecond: 60\n"
        #expect(diagnostics(text) == [
            "pole.yaml:15: telemetrySecond: unknown key 'telemetrySecond' (did you mean 'telemetrySeconds'?)",
        ])
    }

    @Test("an unknown nested key, with a suggestion")
    func unknownNestedKey() throws {
        let text = try replacing("  url: mqtt://broker.local\n", with: "  url: mqtt://broker.local\n  keepAliveSecond: 20\n")
        #expect(diagnostics(text) == [
            "pole.yaml:8: mqtt.keepAliveSecond: unknown key 'keepAliveSecond' (did you mean 'keepAliveSeconds'?)",
        ])
    }

    @Test("an unknown key with nothing like it: no suggestion")
    func unknownKeyNoHint() throws {
        let text = minimal + "colour: amber\n"
        #expect(diagnostics(text) == ["pole.yaml:15: colour: unknown key 'colour'"])
    }

    @Test("one GPIO line used twice")
    func lineUsedTwice() throws {
        let text = try replacing("  sensors:\n", with: "  relay: {line: 17}\n  sensors:\n")
        let d = diagnostics(text)
        #expect(d.count == 1)
        #expect(d.first?.hasPrefix("pole.yaml:9: gpio: line 17 is used twice (") == true, "\(d)")
        #expect(d.first?.contains("sensor s1") == true && d.first?.contains("relay") == true, "\(d)")
    }

    @Test("two sensors on one line")
    func sensorsShareLine() throws {
        let text = try replacing("    - {id: s1, line: 17}\n", with: "    - {id: s1, line: 17}\n    - {id: s2, line: 17}\n")
        #expect(diagnostics(text) == ["pole.yaml:9: gpio: line 17 is used twice (sensor s1 and sensor s2)"])
    }

    @Test("mqtts:// without caFile")
    func tlsWithoutCA() throws {
        let text = try replacing("mqtt://broker.local", with: "mqtts://broker.local")
        #expect(diagnostics(text) == [
            "pole.yaml:7: mqtt.caFile: mqtts:// needs caFile (the CA that signed the broker's certificate)",
        ])
    }

    @Test("TLS files with mqtt://")
    func tlsFilesWithoutTLS() throws {
        let text = try replacing("  url: mqtt://broker.local\n", with: "  url: mqtt://broker.local\n  caFile: /etc/ca.pem\n")
        #expect(diagnostics(text) == ["pole.yaml:8: mqtt.url: TLS files given, but the URL is mqtt:// (use mqtts://)"])
    }

    @Test("certFile without keyFile")
    func certWithoutKey() throws {
        let text = try replacing("  url: mqtt://broker.local\n",
                                 with: "  url: mqtts://broker.local\n  caFile: /etc/ca.pem\n  certFile: /etc/pole.crt\n")
        #expect(diagnostics(text) == ["pole.yaml:9: mqtt.certFile: certFile and keyFile go together"])
    }

    @Test("a URL that is not mqtt:// or mqtts://", arguments: ["http://broker.local", "mqtt://", "mqtt://broker.local:0", "broker.local"])
    func badURL(url: String) throws {
        let text = try replacing("mqtt://broker.local", with: url)
        #expect(diagnostics(text) == ["pole.yaml:7: mqtt.url: '\(url)' is not mqtt://HOST[:PORT] or mqtts://HOST[:PORT]"])
    }

    @Test("a bias that is not one of the choices")
    func badBias() throws {
        let text = try replacing("{id: s1, line: 17}", with: "{id: s1, line: 17, bias: pullup}")
        #expect(diagnostics(text) == [
            "pole.yaml:11: gpio.sensors[0].bias: 'pullup' is not one of: as-is, disable, pull-up, pull-down",
        ])
    }

    @Test("a pole id that cannot be a topic level", arguments: ["A/1", "A+1", "A#1", "'A 1'"])
    func badPoleID(id: String) throws {
        let text = try replacing("pole: A1", with: "pole: \(id)")
        let shown = id.trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        #expect(diagnostics(text) == [
            "pole.yaml:2: pole: '\(shown)' is not a valid id (letters, digits, '-', '_' and '.', as in the route profile; at most 64 characters)",
        ])
    }

    @Test("a route id that cannot be a topic level")
    func badRouteID() throws {
        let text = try replacing("route: it-road", with: "route: it/road")
        #expect(diagnostics(text).first?.hasPrefix("pole.yaml:3: route: 'it/road' is not a valid id") == true)
    }

    @Test("ids that no route profile can have are refused (route: a-z, 0-9, '-'; pole: also A-Z, '_', '.')", arguments: [
        ("route: it-road", "route: It-Road", 3, "route"),
        ("route: it-road", "route: it_road", 3, "route"),
        ("pole: A1", "pole: A,1", 2, "pole"),
        ("pole: A1", "pole: Ä1", 2, "pole"),
    ])
    func idsNoProfileCanHave(old: String, new: String, line: Int, path: String) throws {
        // Valid MQTT topic levels, but ProfileValidator refuses them as route or pole ids, so this
        // pole could never accept a signed profile (every one would be wrong-route or
        // pole-not-in-profile) although `--check-config` passes.
        let text = try replacing(old, with: new)
        let d = diagnostics(text)
        #expect(d.count == 1 && d.first?.hasPrefix("pole.yaml:\(line): \(path): ") == true, "\(d)")
    }

    @Test("a key given twice")
    func duplicateKey() throws {
        let text = try replacing("route: it-road\n", with: "route: it-road\npole: A2\n")
        #expect(diagnostics(text) == ["pole.yaml:4: pole: duplicate key 'pole'"])
    }

    @Test("a nested key given twice")
    func duplicateNestedKey() throws {
        let text = try replacing("  chip: 0\n", with: "  chip: 0\n  chip: 1\n")
        #expect(diagnostics(text) == ["pole.yaml:14: pwm.chip: duplicate key 'chip'"])
    }

    @Test("another format")
    func wrongFormat() throws {
        let text = try replacing("lichtweg-pole/1", with: "lichtweg-pole/2")
        #expect(diagnostics(text) == ["pole.yaml:1: format: 'lichtweg-pole/2' is not 'lichtweg-pole/1'"])
    }

    @Test("a path that is neither absolute nor ./relative")
    func relativePath() throws {
        let text = try replacing("dataDirectory: /var/lib/lichtweg", with: "dataDirectory: var/lib/lichtweg")
        #expect(diagnostics(text) == [
            "pole.yaml:4: dataDirectory: 'var/lib/lichtweg' must be a path (absolute, or relative starting with ./)",
        ])
    }

    @Test("a missing required field")
    func missingField() throws {
        let text = try replacing("profileKey: /etc/lichtweg/profile.pub\n", with: "")
        #expect(diagnostics(text) == ["pole.yaml:1: profileKey: missing required field 'profileKey'"])
    }

    @Test("out-of-range numbers")
    func outOfRange() throws {
        let text = try replacing("line: 17}", with: "line: 1024}") + "outboxCapacity: 0\n"
        #expect(diagnostics(text) == [
            "pole.yaml:11: gpio.sensors[0].line: 1024 is out of range 0–1023",
            "pole.yaml:15: outboxCapacity: 0 is out of range 1–100000",
        ])
    }

    @Test("a sensor listed twice")
    func sensorTwice() throws {
        let text = try replacing("    - {id: s1, line: 17}\n", with: "    - {id: s1, line: 17}\n    - {id: s1, line: 18}\n")
        #expect(diagnostics(text) == ["pole.yaml:11: gpio.sensors: sensor 's1' is listed twice"])
    }

    @Test("every problem is reported, in line order")
    func allProblems() throws {
        var text = try replacing("pole: A1", with: "pole: A/1")
        text = try replacing("mqtt://broker.local", with: "ftp://broker.local", in: text)
        text = try replacing("{id: s1, line: 17}", with: "{id: s1, line: 17, bias: up}", in: text)
        let d = diagnostics(text)
        #expect(d.count == 3)
        #expect(d.map { $0.split(separator: ":").prefix(2).joined(separator: ":") } == ["pole.yaml:2", "pole.yaml:7", "pole.yaml:11"])
    }

    @Test("an empty document, and a YAML syntax error")
    func emptyAndSyntax() {
        #expect(diagnostics("") == ["pole.yaml:1: (document): the document is empty"])
        let broken = diagnostics("format: lichtweg-pole/1\npole: [A1\n")
        #expect(broken.count == 1)
        #expect(broken.first?.hasPrefix("pole.yaml:") == true && broken.first?.contains("YAML syntax error") == true, "\(broken)")
    }

    @Test("not a mapping")
    func notMapping() {
        #expect(diagnostics("- a\n- b\n") == ["pole.yaml:1: (document): expected a mapping (key: value), found a list"])
    }
}

@Suite("PoleConfigLoader.parseURL")
struct ParseURLTests {
    @Test("default ports by scheme")
    func defaults() {
        #expect(PoleConfigLoader.parseURL("mqtt://h") == PoleConfig.MQTT(host: "h", port: 1883, tls: false))
        #expect(PoleConfigLoader.parseURL("mqtts://h") == PoleConfig.MQTT(host: "h", port: 8883, tls: true))
        #expect(PoleConfigLoader.parseURL("mqtt://broker.example.org/") == PoleConfig.MQTT(host: "broker.example.org", port: 1883, tls: false))
    }

    @Test("explicit ports, and IPv6 in brackets")
    func ports() {
        #expect(PoleConfigLoader.parseURL("mqtt://h:1999") == PoleConfig.MQTT(host: "h", port: 1999, tls: false))
        #expect(PoleConfigLoader.parseURL("mqtts://10.0.0.1:8884") == PoleConfig.MQTT(host: "10.0.0.1", port: 8884, tls: true))
        #expect(PoleConfigLoader.parseURL("mqtt://[::1]:1884") == PoleConfig.MQTT(host: "::1", port: 1884, tls: false))
        #expect(PoleConfigLoader.parseURL("mqtts://[fe80::1]") == PoleConfig.MQTT(host: "fe80::1", port: 8883, tls: true))
        #expect(PoleConfigLoader.parseURL("mqtt://h:1") == PoleConfig.MQTT(host: "h", port: 1, tls: false))
        #expect(PoleConfigLoader.parseURL("mqtt://h:65535") == PoleConfig.MQTT(host: "h", port: 65535, tls: false))
    }

    @Test("refused", arguments: [
        "http://h", "tcp://h", "mqtt:/h", "MQTT://h", "h", "",
        "mqtt://", "mqtts://", "mqtt://:1883", "mqtt://[]:1883",   // empty host
        "mqtt://h:0", "mqtt://h:70000", "mqtt://h:65536", "mqtt://h:-1", "mqtt://h:", "mqtt://h:abc",
        "mqtt://[::1", "mqtt://[::1]x", "mqtt://[::1]:", "mqtt://[::1]:0",
        "mqtt://user@h", "mqtt://h/topic",
    ])
    func refused(url: String) {
        #expect(PoleConfigLoader.parseURL(url) == nil, "accepted '\(url)'")
    }

    @Test("an IPv6 address without brackets is refused, not split at its last colon")
    func unbracketedIPv6() {
        // `fe80::1` would otherwise become host "fe80:" and port 1.
        #expect(PoleConfigLoader.parseURL("mqtt://fe80::1") == nil)
        #expect(PoleConfigLoader.parseURL("mqtt://::1") == nil)
    }
}
