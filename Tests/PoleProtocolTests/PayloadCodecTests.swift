import Foundation
import LightCore
import PoleProtocol
import Testing

/// 2026-11-23T17:04:05.125Z (exact in binary, so it survives the text form unchanged).
let sampleInstant = Instant(secondsSinceEpoch: 1_795_453_445.125)

/// The error `decode` throws, or nil if it decoded.
func decodeError<P: Payload>(_ type: P.Type, _ text: String) -> PayloadError? {
    do {
        _ = try PayloadCodec.decode(type, from: Array(text.utf8))
        return nil
    } catch {
        return error
    }
}

extension PayloadError {
    var notJSONDetail: String? { if case let .notJSON(d) = self { d } else { nil } }
    var invalidDetail: String? { if case let .invalid(d) = self { d } else { nil } }
}

/// A state payload as JSON with every required field, `schema` and `extra` spliced in.
func stateJSON(schema: String? = "lichtweg.state/1", dropping: String? = nil, extra: String = "") -> String {
    var fields = [
        (#""pole""#, #""A1""#),
        (#""route""#, #""it-road""#),
        (#""state""#, #""base""#),
        (#""level""#, "30"),
        (#""faults""#, #"["stuck-sensor"]"#),
        (#""uptimeSeconds""#, "12.5"),
        (#""firmware""#, #""0.1.0""#),
        (#""at""#, #""2026-11-23T17:04:05.125Z""#),
        (#""droppedMessages""#, "2"),
    ]
    if let schema { fields.insert((#""schema""#, "\"\(schema)\""), at: 0) }
    if let dropping { fields.removeAll { $0.0 == "\"\(dropping)\"" } }
    var body = fields.map { "\($0.0): \($0.1)" }.joined(separator: ", ")
    if !extra.isEmpty { body += ", " + extra }
    return "{" + body + "}"
}

@Suite("PayloadCodec")
struct PayloadCodecTests {
    @Test("decodes a payload and ignores fields it does not know")
    func ignoresUnknownFields() throws {
        let text = stateJSON(extra: #""futureField": {"nested": [1, 2, 3]}, "colour": "amber""#)
        let state = try PayloadCodec.decode(StatePayload.self, from: Array(text.utf8))
        #expect(state.pole == "A1")
        #expect(state.route == "it-road")
        #expect(state.state == "base")
        #expect(state.level == 30)
        #expect(state.faults == ["stuck-sensor"])
        #expect(state.uptimeSeconds == 12.5)
        #expect(state.firmware == "0.1.0")
        #expect(state.at.instant == sampleInstant)
        #expect(state.droppedMessages == 2)
        #expect(state.failsafeReason == nil && state.program == nil && state.profileVersion == nil)
    }

    @Test("another schema is refused with .wrongSchema")
    func wrongSchema() {
        #expect(decodeError(StatePayload.self, stateJSON(schema: "lichtweg.fault/1"))
            == .wrongSchema(expected: "lichtweg.state/1", found: "lichtweg.fault/1"))
        #expect(decodeError(StatePayload.self, stateJSON(schema: nil))
            == .wrongSchema(expected: "lichtweg.state/1", found: nil))
    }

    @Test("a newer minor version of the same major is taken", arguments: ["lichtweg.state/1.3", "lichtweg.state/1.0", "lichtweg.state/1"])
    func minorVersionAccepted(schema: String) throws {
        let text = stateJSON(schema: schema, extra: #""addedIn13": true"#)
        let state = try PayloadCodec.decode(StatePayload.self, from: Array(text.utf8))
        #expect(state.pole == "A1")
    }

    @Test("another major version, or a name that only starts alike, is refused", arguments: [
        "lichtweg.state/2", "lichtweg.state/10", "lichtweg.state/1x", "lichtweg.state/", "lichtweg.state", "lichtweg.statefoo/1",
    ])
    func otherMajorRefused(schema: String) {
        #expect(decodeError(StatePayload.self, stateJSON(schema: schema))
            == .wrongSchema(expected: "lichtweg.state/1", found: schema))
    }

    @Test("what is not a JSON object is .notJSON", arguments: [
        "",
        "hello",
        "{\"schema\": \"lichtweg.state/1\", \"pole\":",   // truncated
        "[1, 2, 3]",
        "\"lichtweg.state/1\"",
        "{\"schema\": 1}",
    ])
    func notJSON(text: String) {
        let error = decodeError(StatePayload.self, text)
        #expect(error?.notJSONDetail != nil, "got \(String(describing: error))")
    }

    @Test("a truncated copy of a valid payload is .notJSON")
    func truncated() {
        let full = stateJSON()
        let error = decodeError(StatePayload.self, String(full.dropLast(10)))
        #expect(error?.notJSONDetail != nil, "got \(String(describing: error))")
    }

    @Test("a missing required field is .invalid and names the field", arguments: ["route", "pole", "at", "faults", "droppedMessages"])
    func missingField(field: String) throws {
        let error = try #require(decodeError(StatePayload.self, stateJSON(dropping: field)))
        let detail = try #require(error.invalidDetail, "got \(error)")
        #expect(detail == "\(field): missing")
    }

    @Test("a field of the wrong type is .invalid and names the field")
    func wrongType() throws {
        let text = stateJSON(dropping: "level", extra: #""level": "bright""#)
        let detail = try #require(decodeError(StatePayload.self, text)?.invalidDetail)
        #expect(detail.hasPrefix("level: "), "\(detail)")
    }

    @Test("a bad timestamp is .invalid and names the field")
    func badTimestamp() throws {
        let text = stateJSON(dropping: "at", extra: #""at": "2026-02-31T00:00:00Z""#)
        let detail = try #require(decodeError(StatePayload.self, text)?.invalidDetail)
        #expect(detail.hasPrefix("at: "), "\(detail)")
        #expect(detail.contains("2026-02-31T00:00:00Z"))
    }

    @Test("encoding: sorted keys, the schema included, nil fields left out, slashes unescaped")
    func encodeSorted() {
        let fault = FaultPayload(pole: "A1", code: "stuck-sensor", sensor: "s1", active: true, detail: nil,
                                 at: Timestamp(sampleInstant))
        let text = String(decoding: PayloadCodec.encode(fault), as: UTF8.self)
        #expect(text == #"{"active":true,"at":"2026-11-23T17:04:05.125Z","code":"stuck-sensor","pole":"A1","schema":"lichtweg.fault/1","sensor":"s1"}"#)
    }

    @Test("encoding the same message twice gives the same bytes")
    func encodeDeterministic() {
        let state = StatePayload(pole: "A1", route: "it-road", state: "boosted", failsafeReason: nil, level: 100,
                                 program: "weeknight", profileVersion: 3, faults: ["a", "b"], uptimeSeconds: 1,
                                 firmware: "1", at: Timestamp(sampleInstant), droppedMessages: 0)
        #expect(PayloadCodec.encode(state) == PayloadCodec.encode(state))
        let text = String(decoding: PayloadCodec.encode(state), as: UTF8.self)
        #expect(text.contains(#""schema":"lichtweg.state/1""#))
        let keys = ["at", "droppedMessages", "faults", "firmware", "level", "pole", "profileVersion", "program",
                    "route", "schema", "state", "uptimeSeconds"]
        let positions = keys.map { text.range(of: "\"\($0)\":")?.lowerBound }
        #expect(!positions.contains(nil), "\(text)")
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
    }

    @Test("every payload type survives encode and decode")
    func roundTrips() throws {
        let at = Timestamp(sampleInstant)
        let online = OnlinePayload(pole: "A1", online: true, firmware: "0.1.0", at: at)
        #expect(try PayloadCodec.decode(OnlinePayload.self, from: PayloadCodec.encode(online)) == online)
        let will = OnlinePayload(pole: "A1", online: false, firmware: nil, at: nil)
        #expect(try PayloadCodec.decode(OnlinePayload.self, from: PayloadCodec.encode(will)) == will)
        let state = StatePayload(pole: "A1", route: "it-road", state: "failsafe", failsafeReason: "noProfile", level: 100,
                                 program: nil, profileVersion: nil, faults: ["no-profile"], uptimeSeconds: 3.5,
                                 firmware: "0.1.0", at: at, droppedMessages: 7)
        #expect(try PayloadCodec.decode(StatePayload.self, from: PayloadCodec.encode(state)) == state)
        let telemetry = TelemetryPayload(pole: "A1", from: Timestamp(sampleInstant - 300), to: at, energyWh: 12.25,
                                         intervalEnergyWh: 0.5, detections: 4,
                                         edges: SensorEdgeCounts(edges: 9, repeated: 1, bounced: 2), level: 30)
        #expect(try PayloadCodec.decode(TelemetryPayload.self, from: PayloadCodec.encode(telemetry)) == telemetry)
        let ack = ProfileAckPayload(pole: "A1", route: "it-road", version: 4, result: "rejected", reason: "not-newer",
                                    detail: "version 4 is not newer than version 4 in force", versionInForce: 4, at: at)
        #expect(try PayloadCodec.decode(ProfileAckPayload.self, from: PayloadCodec.encode(ack)) == ack)
        let override = OverridePayload(level: 80, until: at, reason: "roadworks")
        #expect(try PayloadCodec.decode(OverridePayload.self, from: PayloadCodec.encode(override)) == override)
    }

    @Test("a payload of one type is not taken as another")
    func typesAreDistinct() {
        let fault = FaultPayload(pole: "A1", code: "lamp-failure", sensor: nil, active: true, detail: nil,
                                 at: Timestamp(sampleInstant))
        let bytes = PayloadCodec.encode(fault)
        #expect(throws: PayloadError.wrongSchema(expected: "lichtweg.state/1", found: "lichtweg.fault/1")) {
            try PayloadCodec.decode(StatePayload.self, from: bytes)
        }
    }

    @Test("error descriptions say what was wrong")
    func descriptions() {
        #expect(PayloadError.wrongSchema(expected: "lichtweg.state/1", found: "x/1").description
            == "schema 'x/1', expected 'lichtweg.state/1'")
        #expect(PayloadError.wrongSchema(expected: "lichtweg.state/1", found: nil).description
            == "schema missing, expected 'lichtweg.state/1'")
        #expect(PayloadError.invalid("level: bad").description == "level: bad")
    }
}

@Suite("DetectionPayload")
struct DetectionPayloadTests {
    @Test("a notice survives payload, bytes and back", arguments: [
        DetectionNotice(pole: "A2", direction: .increasing, speed: 4.5, at: sampleInstant),
        DetectionNotice(pole: "A2", direction: .decreasing, speed: 0, at: sampleInstant),
        DetectionNotice(pole: "A3", direction: nil, speed: nil, at: sampleInstant),
    ])
    func roundTrip(notice: DetectionNotice) throws {
        let payload = DetectionPayload(notice)
        let decoded = try PayloadCodec.decode(DetectionPayload.self, from: PayloadCodec.encode(payload))
        #expect(decoded == payload)
        #expect(decoded.notice == notice)
    }

    @Test("a nonsensical speed is dropped when the payload is made", arguments: [-1.0, .nan, .infinity, -.infinity])
    func dropsBadSpeedOnInit(speed: Double) {
        let payload = DetectionPayload(DetectionNotice(pole: "A1", direction: .increasing, speed: speed, at: sampleInstant))
        #expect(payload.speed == nil)
        #expect(payload.notice == DetectionNotice(pole: "A1", direction: .increasing, speed: nil, at: sampleInstant))
    }

    @Test("a received negative, non-finite or absurd speed makes no notice", arguments: [-0.5, -100, .nan, .infinity, 100, 1000])
    func refusesBadSpeed(speed: Double) {
        var payload = DetectionPayload(DetectionNotice(pole: "A1", direction: .increasing, speed: 5, at: sampleInstant))
        payload.speed = speed
        #expect(payload.notice == nil)
    }

    @Test("a received negative speed in JSON makes no notice")
    func negativeSpeedFromWire() throws {
        let text = #"{"schema":"lichtweg.detection/1","pole":"A1","direction":"increasing","speed":-3,"at":"2026-11-23T17:04:05.125Z"}"#
        let payload = try PayloadCodec.decode(DetectionPayload.self, from: Array(text.utf8))
        #expect(payload.speed == -3)
        #expect(payload.notice == nil)
    }

    @Test("plausible speeds make a notice", arguments: [0.0, 1.4, 13.9, 99.9])
    func acceptsPlausibleSpeed(speed: Double) {
        var payload = DetectionPayload(DetectionNotice(pole: "A1", direction: nil, speed: nil, at: sampleInstant))
        payload.speed = speed
        #expect(payload.notice?.speed == speed)
    }

    @Test("an unknown direction is .invalid")
    func unknownDirection() {
        let text = #"{"schema":"lichtweg.detection/1","pole":"A1","direction":"sideways","at":"2026-11-23T17:04:05.125Z"}"#
        let detail = decodeError(DetectionPayload.self, text)?.invalidDetail
        #expect(detail?.hasPrefix("direction: ") == true, "\(String(describing: detail))")
    }
}

@Suite("OverridePayload")
struct OverridePayloadTests {
    @Test("a nil level clears the override")
    func clear() throws {
        #expect(try OverridePayload(level: nil, until: nil, reason: nil).override() == nil)
        #expect(try OverridePayload(level: nil, until: Timestamp(sampleInstant), reason: "done").override() == nil)
        let fromWire = try PayloadCodec.decode(OverridePayload.self, from: Array(#"{"schema":"lichtweg.override/1","level":null}"#.utf8))
        #expect(try fromWire.override() == nil)
        let omitted = try PayloadCodec.decode(OverridePayload.self, from: Array(#"{"schema":"lichtweg.override/1"}"#.utf8))
        #expect(try omitted.override() == nil)
    }

    @Test("a level outside 0…100 throws .invalid", arguments: [150.0, 100.5, -1, .nan, .infinity])
    func outOfRange(level: Double) {
        #expect(throws: PayloadError.self) {
            try OverridePayload(level: level, until: nil, reason: nil).override()
        }
        do {
            _ = try OverridePayload(level: level, until: nil, reason: nil).override()
        } catch {
            #expect(error.invalidDetail?.hasPrefix("level: ") == true, "\(error)")
        }
    }

    @Test("level, until and reason are carried")
    func carried() throws {
        let until = Timestamp(sampleInstant + 3600)
        let o = try #require(try OverridePayload(level: 80, until: until, reason: "roadworks").override())
        #expect(o == ManualOverride(level: 80, until: until.instant, reason: "roadworks"))
        #expect(o.isActive(at: sampleInstant))
        #expect(!o.isActive(at: sampleInstant + 3600))
    }

    @Test("the edges of the range, no end and no reason")
    func edges() throws {
        #expect(try OverridePayload(level: 0, until: nil, reason: nil).override() == ManualOverride(level: .off, until: nil, reason: ""))
        #expect(try OverridePayload(level: 100, until: nil, reason: nil).override() == ManualOverride(level: .full, until: nil, reason: ""))
    }
}
