import LightCore

extension NightWorldBuilder {
    /// The local date whose night (noon to noon) contains `instant`.
    func nightDate(containing instant: Instant) -> LocalDate {
        let local = zone.local(instant)
        return local.secondsOfDay < 12 * 3600 ? local.date.adding(days: -1) : local.date
    }

    /// The physical world of a window of the night: road users arriving in `[start, end)` (the
    /// model's hourly rates, as `generateUsers` draws them, or `givenUsers`), the sensor edges they
    /// and false triggers cause, cut at `end`. The poles live through the whole night around it,
    /// so they meet the window settled, with nobody around.
    ///
    /// The random streams depend on the seed alone, not on the start, and each kind of road user
    /// has its own: with the same hourly rates the same seed gives the same road users at the same
    /// offsets into the window whenever it starts, and a shorter window the first of them.
    mutating func buildWindow(start: Instant, end: Instant, users givenUsers: [RoadUser]?) -> NightWorld {
        let date = nightDate(containing: start)
        let plan = NightPlan.make(for: profile, date: date)
        var random = SimRandom(seed: seed, stream: 0x11FE_0000_0000)
        let users = givenUsers ?? generateUsers(from: start, to: end)
        scratch.removeAll(keepingCapacity: true)
        for user in users { makeSensorEdges(for: user, random: &random) }
        makeFalseTriggers(from: start, to: end, random: &random)
        let edges = sortedEdges(from: plan.windowStart.secondsSinceEpoch)
            .filter { $0.time >= start.secondsSinceEpoch && $0.time < end.secondsSinceEpoch }
        return NightWorld(date: date, plan: plan, users: users, generated: givenUsers == nil, edges: edges,
                          preview: NightPreview(profile: profile, date: date))
    }

    /// Road users arriving in `[start, end)`: per kind a Poisson process at the model's rate for
    /// the local hour, at either end of the route, numbered from 1 in order of arrival.
    private func generateUsers(from start: Instant, to end: Instant) -> [RoadUser] {
        var users: [RoadUser] = []
        for (k, kind) in RoadUserKind.allCases.enumerated() {
            guard let userModel = model.users[kind], userModel.hourly.count == 24 else { continue }
            var random = SimRandom(seed: seed, stream: 0x11FE_0000_0001 + UInt64(k))
            var t = start
            while t < end {
                let local = zone.local(t)
                let rate = userModel.hourly[Int(local.secondsOfDay / 3600) % 24] / 3600
                let hourEnd = min(end, t + (3600 - local.secondsOfDay.truncatingRemainder(dividingBy: 3600)))
                guard rate > 0 else { t = hourEnd; continue }
                let gap = random.exponential(rate: rate)
                if t + gap >= hourEnd { t = hourEnd; continue }
                t = t + gap
                let entry: TravelDirection = random.chance(0.5) ? .increasing : .decreasing
                users.append(RoadUser.make(number: 0, kind: kind, model: userModel, route: profile.route,
                                           arrival: t, entry: entry, random: &random))
            }
        }
        users.sort { $0.arrival < $1.arrival }
        for i in users.indices { users[i].number = i + 1 }
        return users
    }
}
