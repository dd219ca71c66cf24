import CentralCore
import LightCore
import Testing

@Suite("Telemetry buckets")
struct TelemetryBucketTests {
    @Test("a report is shared out over the quarter hours it overlaps; counts add up exactly")
    func split() {
        let q = TelemetryBuckets.bucket(containing: Instant(secondsSinceEpoch: 1_795_000_123))
        #expect(q.secondsSinceEpoch.truncatingRemainder(dividingBy: 900) == 0)
        let shares = TelemetryBuckets.split(from: q + 600, to: q + 2400, energyWh: 9, detections: 7)
        #expect(shares.map(\.bucket) == [q, q + 900, q + 1800])
        #expect(shares.map(\.energyWh) == [1.5, 4.5, 3])
        #expect(shares.reduce(0) { $0 + $1.detections } == 7)
        #expect(shares.map(\.detections) == [1, 4, 2])
        #expect(TelemetryBuckets.split(from: q + 10, to: q + 10, energyWh: 1, detections: 1)
                == [.init(bucket: q, energyWh: 1, detections: 1)])
    }

    @Test("shares always add up to the report", arguments: [(0.0, 300.0, 5), (899.0, 901.0, 3), (100.0, 10_000.0, 101), (450.0, 1350.0, 1)])
    func sums(_ c: (Double, Double, Int)) {
        let q = Instant(secondsSinceEpoch: 1_795_000_500)
        let shares = TelemetryBuckets.split(from: q + c.0, to: q + c.1, energyWh: 12.5, detections: c.2)
        #expect(abs(shares.reduce(0) { $0 + $1.energyWh } - 12.5) < 1e-9)
        #expect(shares.reduce(0) { $0 + $1.detections } == c.2)
        #expect(shares.allSatisfy { $0.detections >= 0 })
    }

    @Test("lit and level time are shared out like energy")
    func levelTime() {
        let q = TelemetryBuckets.bucket(containing: Instant(secondsSinceEpoch: 1_795_000_123))
        let report = TelemetryReport(pole: "P", route: "R", from: q + 600, to: q + 1200, energyWh: 2, detections: 0,
                                     litSeconds: 600, levelPercentSeconds: 30_000)
        let shares = TelemetryBuckets.split(report)
        #expect(shares.map(\.litSeconds) == [300, 300])
        #expect(shares.map(\.levelPercentSeconds) == [15_000, 15_000])
        // Older firmware: no level time, shares of 0.
        var old = report
        old.litSeconds = nil
        old.levelPercentSeconds = nil
        #expect(TelemetryBuckets.split(old).allSatisfy { $0.litSeconds == 0 && $0.levelPercentSeconds == 0 })
    }
}
