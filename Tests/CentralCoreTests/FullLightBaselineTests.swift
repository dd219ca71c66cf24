import CentralCore
import Foundation
import LightCore
import ProfileFormat
import Testing

@Suite("Full-light baseline")
struct FullLightBaselineTests {
    static let profile: Profile = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try! String(contentsOf: root.appendingPathComponent("Profiles/brandis-beucha.yaml"), encoding: .utf8)
        return try! ProfileLoader.load(text, file: "brandis-beucha.yaml").get()
    }()

    @Test("a whole night is every lamp's power from switch-on to switch-off (as the preview computes it)")
    func wholeNight() {
        let date = LocalDate(iso: "2026-12-01")!
        let preview = NightPreview(profile: Self.profile, date: date)
        let plan = preview.plan
        let wh = FullLightBaseline.wattHours(profile: Self.profile, from: plan.windowStart, to: plan.windowEnd)
        #expect(abs(wh - preview.fullLightWattHours) < 1e-6 * max(1, wh), "\(wh) vs \(preview.fullLightWattHours)")
        // Half the lit time, half the energy; nothing by day.
        let mid = plan.switchOn + (plan.switchOff - plan.switchOn) / 2
        #expect(abs(FullLightBaseline.wattHours(profile: Self.profile, from: plan.switchOn, to: mid) - wh / 2) < 1e-6 * wh)
        #expect(FullLightBaseline.wattHours(profile: Self.profile, from: plan.switchOff + 60, to: plan.windowEnd) == 0)
        #expect(FullLightBaseline.wattHours(profile: Self.profile, from: mid, to: mid) == 0)
    }

    @Test("a week is the sum of its nights")
    func week() {
        let first = LocalDate(iso: "2026-12-01")!
        let nights = (0..<7).map { NightPreview(profile: Self.profile, date: first.adding(days: $0)) }
        let wh = FullLightBaseline.wattHours(profile: Self.profile, from: nights[0].plan.windowStart, to: nights[6].plan.windowEnd)
        let sum = nights.reduce(0) { $0 + $1.fullLightWattHours }
        #expect(abs(wh - sum) < 1e-6 * sum)
    }
}
