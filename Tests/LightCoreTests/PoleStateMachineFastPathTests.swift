@testable import LightCore
import PropertyBased
import Testing

/// The entry points for callers that deliver many events (`handle(_:at:into:)`,
/// `handlePresenceEdge(sensorAt:…)`, `handleNeighbourDetection(_:fromPoleAt:…)`) decide exactly as
/// `handle(_:at:)` does: same actions, same state, over random event sequences.
@Suite("Pole state machine: the simulator's entry points")
struct PoleStateMachineFastPathTests {
    static let profile = Fixtures.profile()
    static let sensors = ["up", "down"]  // the order of `Fixtures.route()`'s sensors on a pole

    enum Delivery {
        case event(PoleEvent)
        case edge(position: Int, active: Bool)
        case notice(DetectionNotice, position: Int)
    }

    /// One random integer as an event, and the same event for the positional entry points.
    static func decode(_ x: Int, at now: Instant) -> (PoleEvent, Delivery) {
        switch x % 8 {
        case 0...3:
            let position = (x / 8) % 3  // 2: no such sensor
            let active = (x / 24) % 2 == 0
            let id = position < sensors.count ? sensors[position] : "nope"
            return (.presenceEdge(sensor: id, active: active), .edge(position: position, active: active))
        case 4, 5:
            let directions: [TravelDirection?] = [nil, .increasing, .decreasing]
            let speeds: [Double?] = [nil, 1.2, 5, 22]
            let sender = (x / 8) % 12  // 10, 11: not on the route
            let notice = DetectionNotice(pole: "P\(sender)", direction: directions[(x / 96) % 3],
                                         speed: speeds[(x / 288) % 4], at: now - Double((x / 1152) % 3))
            // The position given is sometimes wrong: the machine must then look the id up.
            let position = (x / 3456) % 5 == 0 ? (sender + 1) % 10 : sender
            return (.neighbourDetection(notice), .notice(notice, position: position))
        case 6:
            return (.timer, .event(.timer))
        default:
            let until: Instant? = (x / 8) % 3 == 0 ? nil : now + Double((x / 24) % 600)
            let event: PoleEvent = (x / 8) % 4 == 0
                ? .override(nil) : .override(ManualOverride(level: 60, until: until, reason: "test"))
            return (event, .event(event))
        }
    }

    @Test("same actions and state as handle(_:at:)")
    func sameDecisions() async {
        let nights = ["2026-01-10", "2026-03-28", "2026-06-20", "2026-11-23"]
        await propertyCheck(count: 150, input: Gen.int(in: 0...3), Gen.int(in: 0...(24 * 3600)), Gen.int(in: 0...9),
                            Gen.int(in: 0...Int(Int32.max)).array(of: 1...120)) { night, offset, pole, script in
            var now = Fixtures.local(nights[night], "12:00") + Double(offset)
            var reference = PoleStateMachine(poleID: "P\(pole)", profile: Self.profile)
            var fast = PoleStateMachine(poleID: "P\(pole)", profile: Self.profile)
            var buffer: [PoleAction] = []
            let started = reference.handle(.start(activeSensors: []), at: now)
            fast.handle(.start(activeSensors: []), at: now, into: &buffer)
            #expect(buffer == started)
            for x in script {
                now = now + [0.02, 0.3, 1, 4, 20, 95, 900][(x / 13) % 7]
                let (event, delivery) = Self.decode(x, at: now)
                let expected = reference.handle(event, at: now)
                buffer.removeAll(keepingCapacity: true)
                switch delivery {
                case let .event(event):
                    fast.handle(event, at: now, into: &buffer)
                case let .edge(position, active):
                    fast.handlePresenceEdge(sensorAt: position, active: active, at: now, into: &buffer)
                case let .notice(notice, position):
                    fast.handleNeighbourDetection(notice, fromPoleAt: position, at: now, into: &buffer)
                }
                #expect(buffer == expected, "\(event) at \(now)")
                #expect(fast.output == reference.output)
                #expect(fast.state == reference.state)
                #expect(fast.edgeCounts == reference.edgeCounts)
                #expect(fast.detections == reference.detections)
                #expect(fast.energyWattHours(at: now) == reference.energyWattHours(at: now))
            }
        }
    }

    @Test("handle(_:at:into:) appends to what the buffer holds")
    func appends() {
        var machine = PoleStateMachine(poleID: "P3", profile: Self.profile)
        let marker = PoleAction.clearFault(.noProfile)
        var buffer = [marker]
        let now = Fixtures.local("2026-11-23", "21:00")
        machine.handle(.start(activeSensors: []), at: now, into: &buffer)
        #expect(buffer.first == marker)
        #expect(buffer.count > 1)
    }
}

/// The travel estimator against a plain model of its rules (lists and dictionaries instead of its
/// cheaper storage): same estimates over random sequences of notices and local detections.
@Suite("Travel estimator")
struct TravelEstimatorTests {
    /// The rules written out plainly: every notice in a list, every sighting in a dictionary.
    struct Model {
        var notices: [(chainage: Double, at: Instant)] = []
        var lastSeenFacing: [TravelDirection: Instant] = [:]
        var lastSeenRange: [TravelDirection: [Double: Instant]] = [:]
        let pairingWindow = 180.0

        mutating func noteNeighbour(chainage: Double, at time: Instant) {
            notices.removeAll { time - $0.at > pairingWindow }
            notices.append((chainage, time))
            if notices.count > 16 { notices.removeFirst(notices.count - 16) }
        }

        mutating func localDetection(facing: TravelDirection, range: Double, chainage: Double,
                                     at now: Instant) -> TravelEstimator.Estimate? {
            defer {
                lastSeenFacing[facing] = now
                lastSeenRange[facing, default: [:]][range] = now
            }
            let plausible = notices.filter { n in
                let dt = now - n.at
                let dx = abs(chainage - n.chainage)
                return dt > 0.2 && dt <= pairingWindow && dx > 0 && TravelEstimator.speedRange.contains(dx / dt)
            }
            let latest = plausible.max(by: { $0.at < $1.at })
            // Of equally late sightings the shortest range (the dictionary had no order).
            let candidates = (lastSeenRange[facing] ?? [:]).filter { r, t in
                let dt = now - t
                return r > range && dt > 0.2 && dt <= 120 && TravelEstimator.speedRange.contains((r - range) / dt)
            }.sorted { $0.key < $1.key }
            // The more recent of the two kinds of sighting.
            if let (r, t) = candidates.max(by: { $0.value < $1.value }), latest.map({ t > $0.at }) ?? true {
                return .init(direction: facing.opposite, speed: (r - range) / (now - t))
            }
            // Neighbours on both sides within the ambiguity window: no direction, the lower speed.
            if let below = plausible.filter({ $0.chainage < chainage }).max(by: { $0.at < $1.at }),
               let above = plausible.filter({ $0.chainage > chainage }).max(by: { $0.at < $1.at }),
               abs(below.at - above.at) <= TravelEstimator.ambiguityWindow {
                return .init(direction: nil, speed: min(abs(chainage - below.chainage) / (now - below.at),
                                                        abs(chainage - above.chainage) / (now - above.at)))
            }
            if let n = latest {
                return .init(direction: chainage > n.chainage ? .increasing : .decreasing,
                             speed: abs(chainage - n.chainage) / (now - n.at))
            }
            if let other = lastSeenFacing[facing.opposite] {
                let dt = now - other
                if dt > 0.2 && dt <= 60 {
                    let speed = range / dt
                    return .init(direction: facing, speed: TravelEstimator.speedRange.contains(speed) ? speed : nil)
                }
            }
            return nil
        }
    }

    @Test("same estimates as the plain rules")
    func sameEstimates() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...Int(Int32.max)).array(of: 1...200)) { script in
            var estimator = TravelEstimator()
            var model = Model()
            var now = Instant(secondsSinceEpoch: 1_780_000_000)
            for x in script {
                now = now + [0.05, 0.5, 1.5, 4, 12, 40, 200][(x / 7) % 7]
                if x % 3 == 0 {
                    let facing: TravelDirection = (x / 49) % 2 == 0 ? .increasing : .decreasing
                    let range = [12.0, 60, 200][(x / 98) % 3]
                    let estimate = estimator.localDetection(facing: facing, range: range, poleChainage: 350, at: now)
                    #expect(estimate == model.localDetection(facing: facing, range: range, chainage: 350, at: now))
                } else {
                    // Notices arrive late and out of order.
                    let chainage = Double((x / 49) % 21) * 35
                    let seen = now - Double((x / 1029) % 5)
                    estimator.noteNeighbour(chainage: chainage, at: seen)
                    model.noteNeighbour(chainage: chainage, at: seen)
                }
            }
        }
    }

    @Test("a walker ahead and a car behind: the direction is left open, the speed is the lower")
    func bothWays() throws {
        // Found by the simulator (Naunhof–Ammelshain, ideal sensors): a car coming from the
        // pole behind and a walker seen by the pole ahead within a second of each other; paired
        // with the walker, the car was announced as going the wrong way.
        var estimator = TravelEstimator()
        let t0 = Instant(secondsSinceEpoch: 1_780_000_000)
        estimator.noteNeighbour(chainage: 0, at: t0)            // the car, at the pole behind
        estimator.noteNeighbour(chainage: 70.5, at: t0 + 0.65)  // the walker, at the pole ahead
        let estimated = estimator.localDetection(facing: .decreasing, range: 21, poleChainage: 39.1, at: t0 + 1.64)
        let estimate = try #require(estimated)
        #expect(estimate.direction == nil)
        let speed = try #require(estimate.speed)
        #expect(abs(speed - 39.1 / 1.64) < 1e-4, "speed \(speed)")
        // The same two sightings further apart than the window: the latest is paired, as before.
        var apart = TravelEstimator()
        apart.noteNeighbour(chainage: 0, at: t0 - TravelEstimator.ambiguityWindow)
        apart.noteNeighbour(chainage: 70.5, at: t0 + 0.65)
        let apartEstimate = apart.localDetection(facing: .decreasing, range: 21, poleChainage: 39.1, at: t0 + 1.64)
        let paired = try #require(apartEstimate)
        #expect(paired.direction == .decreasing)
    }

    @Test("the pole's own long-range sighting seconds ago wins over a neighbour's notice a minute ago")
    func recentEvidenceWins() throws {
        // Found by the simulator: the entry radar of the end pole saw a car coming in, and its
        // short-range radar seconds later; an older notice of a walker from the next pole
        // made it a walker going out of the route.
        var estimator = TravelEstimator()
        let t0 = Instant(secondsSinceEpoch: 1_780_000_000)
        estimator.noteNeighbour(chainage: 1810.2, at: t0 - 40)
        _ = estimator.localDetection(facing: .increasing, range: 200, poleChainage: 1845.8, at: t0)
        let estimated = estimator.localDetection(facing: .increasing, range: 60, poleChainage: 1845.8, at: t0 + 5.63)
        let estimate = try #require(estimated)
        #expect(estimate.direction == .decreasing)
        #expect(abs(try #require(estimate.speed) - 140 / 5.63) < 1e-4)
        // With the neighbour's notice the more recent, it is paired.
        var later = TravelEstimator()
        _ = later.localDetection(facing: .increasing, range: 200, poleChainage: 1845.8, at: t0)
        later.noteNeighbour(chainage: 1810.2, at: t0 + 3)
        let laterEstimate = later.localDetection(facing: .increasing, range: 60, poleChainage: 1845.8, at: t0 + 5.63)
        let paired = try #require(laterEstimate)
        #expect(paired.direction == .increasing)
    }

    @Test("equal estimators compare equal wherever their ring starts")
    func equality() {
        var a = TravelEstimator()
        var b = TravelEstimator()
        let t0 = Instant(secondsSinceEpoch: 1_780_000_000)
        for i in 0 ..< 20 { a.noteNeighbour(chainage: Double(i), at: t0 + Double(i)) }
        for i in 4 ..< 20 { b.noteNeighbour(chainage: Double(i), at: t0 + Double(i)) }
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        b.noteNeighbour(chainage: 99, at: t0 + 30)
        #expect(a != b)
    }
}
