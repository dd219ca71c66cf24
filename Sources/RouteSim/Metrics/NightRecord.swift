import LightCore

/// What happened on the route in one night: the plan, the road users, every lamp's output over
/// time, and the energy readings.
public struct NightRecord: Sendable {
    public var date: LocalDate
    public var plan: NightPlan
    /// Instants of the hourly energy readings; `hourlyEnergyWh[i]` is between marks i and i+1.
    public var hourMarks: [Instant]
    public var hourlyEnergyWh: [Double]
    /// Route energy from switch-on to switch-off, Wh.
    public var energyWh: Double
    /// The same lamps at full output over the same hours, Wh.
    public var baselineFullWh: Double
    /// The profile's schedule with nobody on the road (no presence control), Wh.
    public var baselineScheduleWh: Double
    public var users: [RoadUser]
    /// Each pole's output: the ramps it was commanded, in order (the first is the state at noon).
    public var timelines: [[LevelRamp]]
    /// Times each lamp was raised.
    public var switchCycles: [Int]
    public var events: Int
    /// The light-ahead analysis, if the simulator made it already (`RouteSimulator.run` does, on
    /// the night's thread), with the profile and model it was made for.
    var madeAnalysis: (analysis: LightAheadAnalysis, profile: Profile, model: SimulationModel)?

    /// The light-ahead analysis of this night.
    public func lightAhead(profile: Profile, model: SimulationModel) -> LightAheadAnalysis {
        if let made = madeAnalysis, made.profile == profile, made.model == model { return made.analysis }
        return LightAheadAnalysis(record: self, profile: profile, model: model)
    }

    /// This record with its road users (numbered from 1 within the night) numbered on from
    /// `offset`, in its analysis too.
    func numberingUsers(from offset: Int) -> NightRecord {
        guard offset != 0 else { return self }
        var record = self
        for i in record.users.indices { record.users[i].number += offset }
        if var made = record.madeAnalysis {
            for i in made.analysis.users.indices { made.analysis.users[i].user.number += offset }
            for i in made.analysis.episodes.indices { made.analysis.episodes[i].user += offset }
            record.madeAnalysis = made
        }
        return record
    }

    /// This record with its light-ahead analysis for `profile` and `model`.
    func with(_ analysis: LightAheadAnalysis, profile: Profile, model: SimulationModel) -> NightRecord {
        var record = self
        record.madeAnalysis = (analysis, profile, model)
        return record
    }
}
