import LightCore
import PoleDaemon
import Testing

@Suite("FailsafeProfile")
struct FailsafeProfileTests {
    let leipzig = GeoPoint(latitude: 51.3397, longitude: 12.3731)

    func utc(_ text: String) -> Instant {
        let parts = text.split(separator: "T")
        let date = LocalDate(iso: parts[0])!
        let hm = parts[1].split(separator: ":").map { Double($0)! }
        return Instant(utcMidnightOf: date) + hm[0] * 3600 + hm[1] * 60
    }

    @Test("a profile of the route with the given pole as its only pole")
    func onlyThePole() throws {
        let profile = try FailsafeProfile.make(pole: "BB-007", route: "brandis-beucha", location: leipzig)
        #expect(profile.route.id == "brandis-beucha")
        #expect(profile.route.poles.map(\.id) == ["BB-007"])
        #expect(profile.route.location == leipzig)
        #expect(profile.route.poles[0].position == leipzig)
    }

    @Test("lit at 100 % from sunset to sunrise, with no presence control", arguments: ["2026-11-23", "2026-06-21", "2027-03-28"])
    func sunsetToSunrise(day: String) throws {
        let profile = try FailsafeProfile.make(pole: "A1", route: "it-road", location: leipzig)
        let date = LocalDate(iso: day)!
        let sunset = try #require(SolarCalculator.time(of: .sunset, on: date, at: leipzig).instant)
        let sunrise = try #require(SolarCalculator.time(of: .sunrise, on: date.adding(days: 1), at: leipzig).instant)
        let midnight = Instant(utcMidnightOf: date.adding(days: 1))

        let plan = NightPlan.make(for: profile, containing: midnight)
        #expect(plan.date == date)
        #expect(plan.switchOn == sunset)
        #expect(plan.switchOff == sunrise)
        #expect(plan.presence == nil)
        for t in [sunset, sunset + 60, midnight, sunrise - 60] {
            #expect(plan.isNight(at: t))
            #expect(plan.segment(at: t)?.level == .full, "at \(t)")
        }
        for t in [sunset - 60, sunrise, sunrise + 60] {
            #expect(!plan.isNight(at: t))
            #expect(plan.segment(at: t) == nil, "at \(t)")
        }
    }

    @Test("by day: dark")
    func day() throws {
        let profile = try FailsafeProfile.make(pole: "A1", route: "it-road", location: leipzig)
        let noon = utc("2026-11-24T11:30")
        let plan = NightPlan.make(for: profile, containing: noon)
        #expect(!plan.isNight(at: noon))
        #expect(plan.segment(at: noon) == nil)
        let evening = utc("2026-11-24T20:00")
        #expect(NightPlan.make(for: profile, containing: evening).segment(at: evening)?.level == .full)
    }

    @Test("pole ids a route profile may have", arguments: ["A1", "BB-001", "pole_7.b", "007", "true"])
    func poleIDs(id: String) throws {
        let profile = try FailsafeProfile.make(pole: id, route: "it-road", location: leipzig)
        #expect(profile.route.poles.map(\.id) == [id])
    }

    @Test("a pole called 'null' (a valid pole id) still gets the failsafe program")
    func poleCalledNull() throws {
        // The id is pasted unquoted into the YAML document, where `null` reads as no value.
        let profile = try FailsafeProfile.make(pole: "null", route: "it-road", location: leipzig)
        #expect(profile.route.poles.map(\.id) == ["null"])
    }

    @Test("lit all night wherever the pole stands", arguments: [
        ("Leipzig", 51.3397, 12.3731),
        ("Montevideo", -34.9, -56.16),
        ("Los Angeles", 34.05, -118.24),
        ("Sydney", -33.87, 151.21),
    ])
    func allNightAnywhere(place: String, lat: Double, lon: Double) throws {
        let location = GeoPoint(latitude: lat, longitude: lon)
        let profile = try FailsafeProfile.make(pole: "A1", route: "it-road", location: location)
        let date = LocalDate(iso: "2026-11-23")!
        let sunset = try #require(SolarCalculator.time(of: .sunset, on: date, at: location).instant)
        let sunrise = try #require(SolarCalculator.time(of: .sunrise, on: date.adding(days: 1), at: location).instant)
        try #require(sunrise > sunset + 3600)
        for t in [sunset + 1800, sunset + (sunrise - sunset) / 2, sunrise - 1800] {
            let plan = NightPlan.make(for: profile, containing: t)
            #expect(plan.segment(at: t)?.level == .full, "\(place): dark at \(t) (sunset \(sunset), sunrise \(sunrise))")
        }
        for t in [sunset - 1800, sunrise + 1800] {
            let plan = NightPlan.make(for: profile, containing: t)
            #expect(plan.segment(at: t) == nil, "\(place): lit by day at \(t) (sunset \(sunset), sunrise \(sunrise))")
        }
    }

    @Test("southern hemisphere and west of Greenwich")
    func elsewhere() throws {
        let montevideo = GeoPoint(latitude: -34.9, longitude: -56.16)
        let profile = try FailsafeProfile.make(pole: "A1", route: "it-road", location: montevideo)
        let t = utc("2026-06-22T04:00")  // 01:00 local, winter
        let plan = NightPlan.make(for: profile, containing: t)
        #expect(plan.segment(at: t)?.level == .full)
    }
}
