import LightCore
import Testing

@Suite("Night plan")
struct NightPlanTests {
    let profile = Fixtures.profile()
    let zone = Fixtures.zone

    func iso(_ i: Instant) -> String { ISO8601.format(i, in: zone) }

    @Test("switch-on and off follow the sun with the offsets")
    func solarSwitching() {
        let date = LocalDate(iso: "2026-11-23")!
        let plan = NightPlan.make(for: profile, date: date)
        let sunset = SolarCalculator.time(of: .sunset, on: date, at: Fixtures.brandis).instant!
        let sunrise = SolarCalculator.time(of: .sunrise, on: date.adding(days: 1), at: Fixtures.brandis).instant!
        #expect(plan.switchOn == sunset + 600)
        #expect(plan.switchOff == sunrise - 600)
        #expect(plan.programName == "weeknight")
        #expect(plan.ruleName == nil)
    }

    @Test("local steps are at local wall-clock time on both daylight-saving nights", arguments: [
        ("2026-03-28", "2026-03-28T22:00:00+01:00", "2026-03-29T05:00:00+02:00"),
        ("2026-10-24", "2026-10-24T22:00:00+02:00", "2026-10-25T05:00:00+01:00"),
        ("2026-11-23", "2026-11-23T22:00:00+01:00", "2026-11-24T05:00:00+01:00"),
    ])
    func dstSteps(date: String, late: String, morning: String) {
        let plan = NightPlan.make(for: profile, date: LocalDate(iso: date)!)
        #expect(plan.steps.count == 3)
        #expect(plan.steps[0].start == plan.switchOn)
        #expect(iso(plan.steps[1].start) == late)
        #expect(iso(plan.steps[2].start) == morning)
        #expect(plan.steps.map(\.level) == [30, 10, 30])
        #expect(plan.steps.map(\.minimum) == [30, 10, 30])
    }

    @Test("every instant belongs to the night that contains it")
    func nightOfInstant() {
        #expect(NightPlan.nightDate(containing: Fixtures.local("2026-11-24", "03:00"), zone: zone) == LocalDate(iso: "2026-11-23"))
        #expect(NightPlan.nightDate(containing: Fixtures.local("2026-11-24", "12:00"), zone: zone) == LocalDate(iso: "2026-11-24"))
        #expect(NightPlan.nightDate(containing: Fixtures.local("2026-11-24", "11:59"), zone: zone) == LocalDate(iso: "2026-11-23"))
    }

    @Test("fixed switch times, and a step before switch-on starts at switch-on")
    func fixedTimes() {
        var program = Fixtures.weeknight
        program.switchOn = .fixed(LocalTime(hour: 22, minute: 30))
        program.switchOff = .fixed(LocalTime(hour: 6, minute: 0))
        let plan = NightPlan.make(for: Fixtures.profile(programs: ["weeknight": program]), date: LocalDate(iso: "2026-07-01")!)
        #expect(iso(plan.switchOn) == "2026-07-01T22:30:00+02:00")
        #expect(iso(plan.switchOff) == "2026-07-02T06:00:00+02:00")
        // The 22:00 step replaced the switch-on step at switch-on.
        #expect(plan.steps.count == 2)
        #expect(plan.steps[0].start == plan.switchOn)
        #expect(plan.steps[0].level == 10)
        #expect(plan.segment(at: plan.switchOn + 60)?.level == 10)
        #expect(plan.segment(at: plan.switchOn - 60) == nil)
    }

    @Test("polar day: the lamps stay dark; polar night: lit all night")
    func polar() {
        var route = Fixtures.route()
        route.location = GeoPoint(latitude: 69.65, longitude: 18.96)  // Tromsø
        route.timeZone = "Europe/Oslo"
        let p = Fixtures.profile(route: route)
        let summer = NightPlan.make(for: p, date: LocalDate(iso: "2026-06-21")!)
        #expect(!summer.isLitAtAll)
        #expect(summer.segment(at: summer.windowStart + 12 * 3600) == nil)
        let winter = NightPlan.make(for: p, date: LocalDate(iso: "2026-12-21")!)
        #expect(winter.switchOn == winter.windowStart)
        #expect(winter.switchOff == winter.windowEnd)
    }

    @Test("the next change is the next step, switch or the end of the night")
    func nextChange() {
        let plan = NightPlan.make(for: profile, date: LocalDate(iso: "2026-11-23")!)
        #expect(plan.nextChange(after: plan.windowStart) == plan.switchOn)
        #expect(plan.nextChange(after: plan.switchOn) == plan.steps[1].start)
        #expect(plan.nextChange(after: plan.switchOff) == plan.windowEnd)
    }

    @Test("the preview's energy is the scheduled levels integrated over the night")
    func previewEnergy() {
        var safety = SafetySettings()
        safety.presenceOnStart = false
        let p = Fixtures.profile(safety: safety)
        let date = LocalDate(iso: "2026-11-23")!
        let preview = NightPreview(profile: p, date: date)
        let plan = preview.plan
        // By hand: per pole, standby over the whole night plus the step levels over their spans
        // (ramps at 22:00 and 05:00 change this by well under 0.1 Wh).
        let spans = [(plan.steps[0].start, plan.steps[1].start, 30.0),
                     (plan.steps[1].start, plan.steps[2].start, 10.0),
                     (plan.steps[2].start, plan.switchOff, 30.0)]
        var perPole = 0.5 * (plan.switchOff - plan.switchOn) / 3600
        for (a, b, level) in spans { perPole += 24 * level / 100 * (b - a) / 3600 }
        let expected = perPole * 10
        #expect(abs(preview.energyWattHours - expected) < 1.0, "\(preview.energyWattHours) vs \(expected)")
        #expect(abs(preview.fullLightWattHours - 24.5 * 10 * (plan.switchOff - plan.switchOn) / 3600) < 1e-6)  // 24 W + 0.5 W standby
        #expect(preview.energyWattHours < preview.fullLightWattHours)
    }
}
