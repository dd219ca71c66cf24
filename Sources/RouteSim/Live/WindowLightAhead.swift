import LightCore

/// Did the road users of a live window have light ahead of them? The figures of
/// `LightAheadAnalysis` over the window only, for the virtual run, for the live lamps as sampled,
/// or for other draws of the network's luck.
public struct WindowLightAhead: Sendable, Hashable, Codable {
    /// Road-user seconds in the window with a pole within stopping sight distance ahead.
    public var exposedSeconds: Double
    /// Of those, the seconds with a pole in that distance below the presence level.
    public var darkSeconds: Double
    /// Road users who had any.
    public var usersWithDarkness: Int
    /// Stretches of time in which one pole ahead of one road user was too dark (at most
    /// `LightAheadAnalysis.maxEpisodes`).
    public var darkEpisodes: Int

    /// The light-ahead ratio: the share of the exposed seconds that had the whole distance lit.
    public var ratio: Double

    init(_ analysis: LightAheadAnalysis) {
        exposedSeconds = analysis.exposedSeconds
        darkSeconds = analysis.darkSeconds
        ratio = exposedSeconds > 0 ? 1 - darkSeconds / exposedSeconds : 1
        usersWithDarkness = analysis.users.filter { $0.darkSeconds > 0 }.count
        darkEpisodes = analysis.episodes.count
    }
}

extension LiveWindow {
    // MARK: - Light ahead in the window

    /// The virtual run's light ahead in the window.
    public func lightAhead() -> WindowLightAhead {
        lightAhead(of: record)
    }

    /// The light ahead the live lamps gave, from their sampled outputs (per pole in route order:
    /// time in POSIX seconds, percent), over the window.
    public func lightAhead(ofSamples samples: [[(time: Double, level: Double)]]) -> WindowLightAhead {
        precondition(samples.count == record.timelines.count, "one sample series per pole")
        // A PWM's duty cycle is whole nanoseconds: a level a rounding below the presence level is at it.
        let presence = record.plan.presence?.level.percent
        let snapped = samples.map { series in
            series.map { sample -> (time: Double, level: Double) in
                guard let presence, sample.level < presence, presence - sample.level < 0.05 else { return sample }
                return (sample.time, presence)
            }
        }
        var live = record
        live.madeAnalysis = nil
        live.timelines = snapped.map(Self.timeline(ofSamples:))
        return lightAhead(of: live)
    }

    /// The light ahead of the same road users with `draws` other draws of the network's luck
    /// (latency and loss of every notice): what the simulator predicts for the window, as a
    /// distribution. Needs a network with a spread (random latency or loss) to differ at all.
    public func predictedLightAhead(draws: Int) -> [WindowLightAhead] {
        let simulator = RouteSimulator(profile: profile, model: model, seed: seed, parallelism: 1)
        return (0 ..< max(0, draws)).map { draw in
            lightAhead(of: simulator.simulate(world, networkDraw: UInt64(draw) + 1))
        }
    }

    private func lightAhead(of record: NightRecord) -> WindowLightAhead {
        WindowLightAhead(LightAheadAnalysis(record: record, profile: profile, model: model,
                                            within: Interval(start.secondsSinceEpoch, end.secondsSinceEpoch)))
    }

    /// A sampled output as steps: each change seen is taken to have happened halfway between the
    /// sample that showed it and the one before (it happened somewhere in between).
    static func timeline(ofSamples samples: [(time: Double, level: Double)]) -> [LevelRamp] {
        guard let first = samples.first else { return [] }
        var ramps = [LevelRamp.steady(DimLevel(percent: first.level), since: Instant(secondsSinceEpoch: first.time))]
        for i in samples.indices.dropFirst() where samples[i].level != samples[i - 1].level {
            let at = (samples[i - 1].time + samples[i].time) / 2
            ramps.append(LevelRamp(from: DimLevel(percent: samples[i - 1].level), to: DimLevel(percent: samples[i].level),
                                   start: Instant(secondsSinceEpoch: at), duration: 0))
        }
        return ramps
    }
}
