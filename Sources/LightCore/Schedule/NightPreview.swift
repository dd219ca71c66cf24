/// What a profile does on one night with no traffic: switch times, base steps and the route's
/// energy — computed by running every pole's real state machine through the night, so the preview
/// cannot disagree with the poles.
public struct NightPreview: Hashable, Sendable {
    public var plan: NightPlan
    public var zone: ZoneRules
    /// The solar events the program refers to, for the engineer's orientation.
    public var sunset: SunEventTime
    public var sunrise: SunEventTime
    /// Route energy from switch-on to switch-off with nobody on the road, standby included.
    public var energyWattHours: Double
    /// The same lamps at 100 % over the same hours, for comparison.
    public var fullLightWattHours: Double
    public var poleCount: Int

    public var litSeconds: Double { plan.switchOff - plan.switchOn }

    public init(profile: Profile, date: LocalDate) {
        let zone = ZoneRules(identifier: profile.route.timeZone) ?? .utc
        let plan = NightPlan.make(for: profile, date: date)
        self.plan = plan
        self.zone = zone
        self.sunset = SolarCalculator.time(of: .sunset, on: date, at: profile.route.location)
        self.sunrise = SolarCalculator.time(of: .sunrise, on: date.adding(days: 1), at: profile.route.location)
        self.poleCount = profile.route.poles.count

        var energy = 0.0
        var full = 0.0
        for pole in profile.route.poles {
            var machine = PoleStateMachine(poleID: pole.id, profile: profile)
            var now = plan.windowStart
            var timer: Instant? = nil
            var atSwitchOn = 0.0
            func absorb(_ actions: [PoleAction]) {
                for case let .armTimer(at) in actions { timer = at }
            }
            absorb(machine.handle(.start(activeSensors: []), at: now))
            while let next = timer, next <= plan.switchOff {
                if now < plan.switchOn && next >= plan.switchOn {
                    atSwitchOn = machine.energyWattHours(at: plan.switchOn)
                }
                now = next
                timer = nil
                absorb(machine.handle(.timer, at: now))
            }
            if plan.switchOn == plan.windowStart { atSwitchOn = machine.energyWattHours(at: plan.switchOn) }
            if !plan.isLitAtAll { atSwitchOn = machine.energyWattHours(at: plan.switchOff) }
            energy += machine.energyWattHours(at: plan.switchOff) - atSwitchOn
            if let luminaire = profile.route.luminaire(of: pole) {
                full += luminaire.power(at: .full) * (plan.switchOff - plan.switchOn) / 3600
            }
        }
        self.energyWattHours = energy
        self.fullLightWattHours = full
    }
}
