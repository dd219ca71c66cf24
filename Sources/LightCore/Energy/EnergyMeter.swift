/// Integrates a luminaire's electrical power over its output, in watt-hours.
///
/// The meter is fed the same ramps the lamp driver executes, so the figure is what an energy
/// meter on the pole would read with the modelled power curve (`Luminaire.power(at:)`).
public struct EnergyMeter: Hashable, Sendable {
    public private(set) var wattHours: Double = 0
    /// Seconds the lamp was lit (level above 0), for burning-hour statistics.
    public private(set) var litSeconds: Double = 0
    /// The output level integrated over time, in percent-seconds (level time: 50 % for 10 s is 500).
    public private(set) var levelPercentSeconds: Double = 0
    public private(set) var lastUpdate: Instant?

    public init() {}

    /// Adds the energy used from the last update to `now` with the output following `ramp`.
    public mutating func advance(to now: Instant, output ramp: LevelRamp, luminaire: Luminaire) {
        defer { lastUpdate = max(lastUpdate ?? now, now) }
        guard let last = lastUpdate, now > last else { return }
        let percentSeconds = ramp.integral(from: last, to: now)
        let seconds = now - last
        wattHours += (luminaire.standby * seconds + luminaire.power * percentSeconds / 100) / 3600
        levelPercentSeconds += percentSeconds
        // Lit time: the output is above zero unless it stays at 0 over the interval.
        if !(ramp.level(at: last).isOff && ramp.level(at: now).isOff && ramp.to.isOff) {
            litSeconds += seconds
        }
    }

    /// Moves the meter's clock with a wall-clock step, so the step itself is not metered.
    public mutating func shift(by seconds: Double) {
        if let last = lastUpdate { lastUpdate = last + seconds }
    }
}
