import LightCore

/// The energy a route would have used with every lamp at full power from switch-on to switch-off:
/// what the savings of its telemetry are measured against.
public enum FullLightBaseline {
    /// Watt-hours of full light on `profile`'s route in [from, to), by the profile's own switch times.
    public static func wattHours(profile: Profile, from: Instant, to: Instant) -> Double {
        guard to > from else { return 0 }
        let power = profile.route.poles.reduce(0.0) { $0 + (profile.route.luminaire(of: $1)?.power(at: .full) ?? 0) }
        var total = 0.0
        // Nights run noon to noon; each day in the period (and the one before) has one.
        var t = from - 86_400
        var seen: Set<String> = []
        while t < to + 86_400 {
            let plan = NightPlan.make(for: profile, containing: t)
            if seen.insert(plan.date.description).inserted, plan.isLitAtAll {
                let overlap = min(plan.switchOff, to) - max(plan.switchOn, from)
                if overlap > 0 { total += power * overlap / 3600 }
            }
            t = t + 43_200
        }
        return total
    }
}
