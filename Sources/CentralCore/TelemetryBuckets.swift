import LightCore

/// Telemetry kept per 15 minutes: a pole's report covers whatever interval it covers (5 minutes by
/// default, longer after an outage), so its energy and counts are shared out over the quarter
/// hours it overlaps, in proportion to the overlap.
public enum TelemetryBuckets {
    public static let seconds = 900.0

    /// One quarter hour's share of a report.
    public struct Share: Hashable, Sendable {
        /// Start of the quarter hour (UTC, a multiple of 900 s since 1970).
        public var bucket: Instant
        public var energyWh: Double
        public var detections: Int

        public init(bucket: Instant, energyWh: Double, detections: Int) {
            self.bucket = bucket
            self.energyWh = energyWh
            self.detections = detections
        }
    }

    /// The start of the quarter hour containing `t`.
    public static func bucket(containing t: Instant) -> Instant {
        Instant(secondsSinceEpoch: (t.secondsSinceEpoch / seconds).rounded(.down) * seconds)
    }

    /// Shares of a report over [from, to): energy in proportion to the overlap; detections too,
    /// rounded so that the shares add up to the report's count exactly (largest remainders).
    public static func split(from: Instant, to: Instant, energyWh: Double, detections: Int) -> [Share] {
        guard to > from else {
            return [Share(bucket: bucket(containing: from), energyWh: energyWh, detections: detections)]
        }
        var shares: [Share] = []
        var fractions: [Double] = []
        var start = bucket(containing: from)
        let total = to - from
        while start < to {
            let end = start + seconds
            let overlap = min(end, to) - max(start, from)
            if overlap > 0 {
                let f = overlap / total
                fractions.append(f)
                shares.append(Share(bucket: start, energyWh: energyWh * f, detections: Int((Double(detections) * f).rounded(.down))))
            }
            start = end
        }
        var left = detections - shares.reduce(0) { $0 + $1.detections }
        let order = fractions.indices.sorted {
            let a = Double(detections) * fractions[$0], b = Double(detections) * fractions[$1]
            return (a - a.rounded(.down)) > (b - b.rounded(.down))
        }
        for i in order where left > 0 {
            shares[i].detections += 1
            left -= 1
        }
        return shares
    }
}
