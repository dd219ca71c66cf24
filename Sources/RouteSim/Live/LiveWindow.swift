import LightCore

/// A window of a night as the live comparison needs it (`lichtweg sim --live`): the road users
/// of the window, the sensor line edges they cause at each pole, and the virtual run of exactly
/// that window — the real `PoleStateMachine` of every pole, which has lived through the night up
/// to the window with nobody around, receiving the same edges.
///
/// Pure: no clock and no I/O. The caller replays `edges` in real time into the live poles and
/// compares what they do with `changes`.
public struct LiveWindow: Sendable {
    public let start: Instant
    public let end: Instant
    /// The road users arriving in the window, numbered in order of arrival.
    public let users: [RoadUser]
    /// The line changes the poles must see, in time order (within the window).
    public let edges: [LineEdge]
    /// Each pole's commanded output in the virtual run: its ramps over the whole night.
    public let timelines: [[LevelRamp]]
    /// Each pole's lamp decisions in the virtual run that start in the window.
    public let changes: [[LampChange]]
    /// The poles' ids, in route order.
    public let poleIDs: [String]
    /// The merge gap the changes were made with; the live changes must be made with it too.
    public let mergeGap: Double
    /// What the light-ahead analysis and other draws of the network need.
    let profile: Profile
    let model: SimulationModel
    let seed: UInt64
    let world: NightWorld
    let record: NightRecord

    /// Computes the window `[start, start + duration)`.
    ///
    /// - Parameters:
    ///   - model: the world model, with the network set to the live path's (latency, loss).
    ///   - users: hand-made road users instead of the generated ones (tests).
    public static func compute(profile: Profile, model: SimulationModel, seed: UInt64, start: Instant,
                               duration: Double, users: [RoadUser]? = nil, mergeGap: Double = 0.15) -> LiveWindow {
        let end = start + duration
        var builder = NightWorldBuilder(profile: profile, model: model, seed: seed)
        let world = builder.buildWindow(start: start, end: end, users: users)

        // The line changes, counting the road users (and false triggers) that hold each line.
        var holders = Array(repeating: 0, count: builder.slots.count)
        var edges: [LineEdge] = []
        for edge in world.edges {
            let before = holders[edge.slot]
            let after = max(0, before + (edge.on ? 1 : -1))
            holders[edge.slot] = after
            guard (before == 0) != (after == 0) else { continue }
            let pole = builder.slots[edge.slot].pole
            let sensor = profile.route.poles[pole].sensors[edge.slot - builder.poleSlots[pole]].id
            edges.append(LineEdge(time: edge.time, pole: pole, sensor: sensor, active: after > 0))
        }

        let record = RouteSimulator(profile: profile, model: model, seed: seed, parallelism: 1).simulate(world)
        let window = start.secondsSinceEpoch ... end.secondsSinceEpoch
        let changes = record.timelines.map { LampChangeExtractor.changes(of: $0, in: window, mergeGap: mergeGap) }
        return LiveWindow(start: start, end: end, users: world.users, edges: edges, timelines: record.timelines,
                          changes: changes, poleIDs: profile.route.poles.map(\.id), mergeGap: mergeGap,
                          profile: profile, model: model, seed: seed, world: world, record: record)
    }

    /// The output of the pole at `index` at `instant` in the virtual run.
    public func level(ofPoleAt index: Int, at instant: Instant) -> DimLevel {
        let ramps = timelines[index]
        guard let last = ramps.last(where: { $0.start <= instant }) else { return ramps.first?.from ?? .off }
        return last.level(at: instant)
    }

    /// What started a virtual change: `sensor` (a line edge at this pole at that instant),
    /// `notice` (an edge at another pole within the second before it), else `timer` (a hold
    /// running out, a renewal, a step of the schedule).
    public func cause(of change: LampChange, atPole pole: Int) -> String {
        if edges.contains(where: { $0.pole == pole && abs($0.time - change.time) < 1e-6 }) { return "sensor" }
        if edges.contains(where: { $0.pole != pole && $0.active && change.time - $0.time >= 0 && change.time - $0.time < 1 }) {
            return "notice"
        }
        return "timer"
    }
}
