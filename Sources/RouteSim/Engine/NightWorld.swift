import LightCore

/// The physical world of one night: the road users and the sensor edges they and false triggers
/// cause, in time order.
///
/// It depends on nothing but the profile, the model, the seed and the date — not on what the
/// poles did before — so it can be made ahead of time, on another thread, while the poles live
/// through the night before (`RouteSimulator.run(nights:onNight:)`).
struct NightWorld: Sendable {
    var date: LocalDate
    var plan: NightPlan
    /// Road users in order of arrival, numbered from 1 within the night (generated traffic) or as
    /// given.
    var users: [RoadUser]
    /// Whether `users` were generated (and are numbered from 1 within the night).
    var generated: Bool
    /// The edges, ordered by time, ties by `order`.
    var edges: [WorldEdge]
    /// The night with nobody on the road (the baselines of the night's record).
    var preview: NightPreview
}

/// One sensor edge of the physical world: a road user (or a false trigger) entering or leaving
/// a sensor's zone (plus its hold). 16 bytes, so that sorting a night's edges stays cheap.
struct WorldEdge: Sendable {
    var time: Double
    /// The order in which the edge was made; it breaks ties of time (and numbers the edge in the
    /// simulator's queue).
    var order: UInt32
    /// `slot << 1 | on`, slot being the sensor's index over all sensors of the route.
    var code: UInt32

    var slot: Int { Int(code >> 1) }
    var on: Bool { code & 1 == 1 }

    @inline(__always) static func precedes(_ a: WorldEdge, _ b: WorldEdge) -> Bool {
        a.time < b.time || (a.time == b.time && a.order < b.order)
    }
}

/// Makes the physical world of nights. Everything about the sensors that does not change from
/// one road user to the next (zones, hold, miss chances) is worked out once, here.
struct NightWorldBuilder: Sendable {
    let profile: Profile
    let model: SimulationModel
    let seed: UInt64
    let zone: ZoneRules

    /// One sensor of the route (in pole order, then the pole's sensor order), with its zone.
    struct SensorSlot: Sendable {
        var pole: Int
        var chainage: Double
        var kind: Sensor.Kind
        /// The zone along the road, a ≤ b.
        var a: Double
        var b: Double
        var hold: Double
        /// Miss chance per road-user kind (`RoadUserKind.allCases` order), and the extra for slow ones.
        var miss: [Double]
        var slowExtraMiss: Double
        var falseTriggersPerHour: Double
    }

    /// The first slot of each pole's sensors; `poleSlots[p] ..< poleSlots[p + 1]`.
    let poleSlots: [Int]
    let slots: [SensorSlot]
    private let chainages: [Double]
    private let kindIndex: [RoadUserKind: Int]

    /// Reused between nights: the number of edges per second of the night (counting sort).
    private var bucketStarts: [Int32] = []
    var scratch: [WorldEdge] = []

    init(profile: Profile, model: SimulationModel, seed: UInt64) {
        self.profile = profile
        self.model = model
        self.seed = seed
        self.zone = ZoneRules(identifier: profile.route.timeZone) ?? .utc
        let physics = model.sensors
        var poleSlots: [Int] = []
        var slots: [SensorSlot] = []
        for (p, pole) in profile.route.poles.enumerated() {
            poleSlots.append(slots.count)
            for sensor in pole.sensors {
                // The same arithmetic as the zone was always computed with, so the edges fall on
                // the same instants.
                let blind = physics.ideal ? 0 : physics.blindDistance(sensor.kind)
                let a = sensor.facing == .increasing ? pole.chainage + blind : pole.chainage - sensor.range
                let b = sensor.facing == .increasing ? pole.chainage + sensor.range : pole.chainage - blind
                let miss = RoadUserKind.allCases.map { physics.ideal ? 0 : physics.missProbability[sensor.kind]?[$0] ?? 0 }
                slots.append(SensorSlot(pole: p, chainage: pole.chainage, kind: sensor.kind, a: a, b: b,
                                        hold: physics.holdSeconds[sensor.kind] ?? 2, miss: miss,
                                        slowExtraMiss: physics.slowExtraMiss[sensor.kind] ?? 0,
                                        falseTriggersPerHour: physics.falseTriggersPerHour[sensor.kind] ?? 0))
            }
        }
        poleSlots.append(slots.count)
        self.poleSlots = poleSlots
        self.slots = slots
        self.chainages = profile.route.poles.map(\.chainage)
        self.kindIndex = Dictionary(uniqueKeysWithValues: RoadUserKind.allCases.enumerated().map { ($1, $0) })
    }

    /// The world of the night that begins on `date`; `givenUsers` replace the generated traffic.
    mutating func build(date: LocalDate, users givenUsers: [RoadUser]? = nil) -> NightWorld {
        let plan = NightPlan.make(for: profile, date: date)
        var random = SimRandom(seed: seed, stream: UInt64(bitPattern: Int64(date.daysSinceEpoch)))
        let users = givenUsers ?? generateUsers(plan: plan, random: &random)
        scratch.removeAll(keepingCapacity: true)
        for user in users { makeSensorEdges(for: user, random: &random) }
        makeFalseTriggers(from: plan.windowStart, to: plan.windowEnd, random: &random)
        return NightWorld(date: date, plan: plan, users: users, generated: givenUsers == nil,
                          edges: sortedEdges(from: plan.windowStart.secondsSinceEpoch),
                          preview: NightPreview(profile: profile, date: date))
    }

    // MARK: - Road users

    private func generateUsers(plan: NightPlan, random: inout SimRandom) -> [RoadUser] {
        var users: [RoadUser] = []
        var number = 0
        for kind in RoadUserKind.allCases {
            guard let userModel = model.users[kind], userModel.hourly.count == 24 else { continue }
            // A Poisson process whose rate follows the local hour. Only road users of the lit
            // part of the night (and the minutes before it) matter for light; by day the lamps are
            // dark whatever happens, so daytime traffic is not generated.
            guard plan.isLitAtAll else { continue }
            let end = plan.switchOff
            var t = max(plan.windowStart, plan.switchOn - 300)
            while t < end {
                let hour = Int(zone.local(t).secondsOfDay / 3600) % 24
                let rate = userModel.hourly[hour] / 3600
                let hourEnd = min(end, t + (3600 - zone.local(t).secondsOfDay.truncatingRemainder(dividingBy: 3600)))
                guard rate > 0 else { t = hourEnd; continue }
                let gap = random.exponential(rate: rate)
                if t + gap >= hourEnd {
                    t = hourEnd  // memoryless: continue drawing in the next hour at its rate
                    continue
                }
                t = t + gap
                let entry: TravelDirection = random.chance(0.5) ? .increasing : .decreasing
                number += 1
                users.append(RoadUser.make(number: number, kind: kind, model: userModel, route: profile.route,
                                           arrival: t, entry: entry, random: &random))
            }
        }
        return users.sorted { $0.arrival < $1.arrival }
    }

    // MARK: - Sensor edges

    /// Turns a road user's path into sensor line activity: a sensor is active while the road user
    /// moves through its zone (unless it misses them), and for its hold time after.
    mutating func makeSensorEdges(for user: RoadUser, random: inout SimRandom) {
        let physics = model.sensors
        let kind = kindIndex[user.kind]!
        for leg in user.legs {
            let lo = min(leg.x0, leg.x1), hi = max(leg.x0, leg.x1)
            let standing = leg.velocity == 0
            if standing && !(physics.seesStationary || physics.ideal) { continue }
            let slow = abs(leg.velocity) < physics.slowSpeed
            for p in chainages.indices {
                let chainage = chainages[p]
                guard chainage + 250 >= lo && chainage - 250 <= hi else { continue }
                for s in poleSlots[p] ..< poleSlots[p + 1] {
                    let slot = slots[s]
                    guard hi >= slot.a && lo <= slot.b else { continue }
                    // `SensorPhysics.miss(_:_:speed:)`, with the lookups done once.
                    if !physics.ideal {
                        var miss = slot.miss[kind]
                        if slow { miss += slot.slowExtraMiss }
                        if random.chance(min(1, miss)) { continue }
                    }
                    let start: Instant, end: Instant
                    if standing {
                        (start, end) = (leg.start, leg.end)
                    } else {
                        let t1 = leg.start + (slot.a - leg.x0) / leg.velocity
                        let t2 = leg.start + (slot.b - leg.x0) / leg.velocity
                        start = max(leg.start, min(t1, t2))
                        end = min(leg.end, max(t1, t2))
                    }
                    guard end >= start else { continue }
                    addEdge(slot: s, on: true, at: start.secondsSinceEpoch)
                    addEdge(slot: s, on: false, at: (end + slot.hold).secondsSinceEpoch)
                }
            }
        }
    }

    mutating func makeFalseTriggers(from start: Instant, to end: Instant, random: inout SimRandom) {
        guard !model.sensors.ideal else { return }
        for (s, slot) in slots.enumerated() {
            let perHour = slot.falseTriggersPerHour
            guard perHour > 0 else { continue }
            var t = start + random.exponential(rate: perHour / 3600)
            while t < end {
                addEdge(slot: s, on: true, at: t.secondsSinceEpoch)
                addEdge(slot: s, on: false, at: (t + slot.hold).secondsSinceEpoch)
                t = t + random.exponential(rate: perHour / 3600)
            }
        }
    }

    @inline(__always) private mutating func addEdge(slot: Int, on: Bool, at time: Double) {
        scratch.append(WorldEdge(time: time, order: UInt32(scratch.count), code: UInt32(slot) << 1 | (on ? 1 : 0)))
    }

    /// The edges made, ordered by (time, order): a counting sort by the second of the night, then
    /// insertion sort within each second (a few edges each). Much cheaper than a heap of all of
    /// them, which used to be a sixth of a simulation.
    mutating func sortedEdges(from origin: Double) -> [WorldEdge] {
        let n = scratch.count
        guard n > 1 else { return scratch }
        let buckets = 86_400 * 2 + 2  // a night is 23 to 25 h; later edges share the last bucket
        @inline(__always) func bucket(_ t: Double) -> Int {
            let x = t - origin
            guard x > 0 else { return 0 }  // (also NaN)
            return x < Double(buckets - 1) ? Int(x) : buckets - 1
        }
        if bucketStarts.count != buckets + 1 { bucketStarts = Array(repeating: 0, count: buckets + 1) }
        for i in bucketStarts.indices { bucketStarts[i] = 0 }
        for e in scratch { bucketStarts[bucket(e.time) + 1] += 1 }
        for i in 1 ... buckets { bucketStarts[i] += bucketStarts[i - 1] }
        var sorted = [WorldEdge](repeating: WorldEdge(time: 0, order: 0, code: 0), count: n)
        sorted.withUnsafeMutableBufferPointer { out in
            bucketStarts.withUnsafeMutableBufferPointer { next in
                for e in scratch {
                    let b = bucket(e.time)
                    out[Int(next[b])] = e
                    next[b] += 1
                }
            }
            // Now bucket b spans [next[b - 1], next[b]); insertion sort in place over the whole
            // array is the same as per bucket (the buckets are already in order), and cheap.
            for i in 1 ..< n {
                let e = out[i]
                var j = i
                while j > 0 && WorldEdge.precedes(e, out[j - 1]) {
                    out[j] = out[j - 1]
                    j -= 1
                }
                out[j] = e
            }
        }
        return sorted
    }
}
