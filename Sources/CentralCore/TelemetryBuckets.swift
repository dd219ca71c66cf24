import LightCore

/// One telemetry report of a pole as the control plane stores it.
public struct TelemetryReport: Hashable, Sendable {
    public var pole: String
    public var route: String
    /// The interval the report covers.
    public var from: Instant
    public var to: Instant
    public var energyWh: Double
    public var detections: Int
    /// Seconds of the interval the lamp was lit; nil from firmware that does not report it.
    public var litSeconds: Double?
    /// The lamp's level integrated over the interval, in percent-seconds (a lamp at 50 % for
    /// 10 s gives 500); nil from firmware that does not report it.
    public var levelPercentSeconds: Double?

    public init(pole: String, route: String, from: Instant, to: Instant, energyWh: Double, detections: Int,
                litSeconds: Double? = nil, levelPercentSeconds: Double? = nil) {
        self.pole = pole
        self.route = route
        self.from = from
        self.to = to
        self.energyWh = energyWh
        self.detections = detections
        self.litSeconds = litSeconds
        self.levelPercentSeconds = levelPercentSeconds
    }
}

/// Telemetry kept per 15 minutes: a pole's report covers whatever interval it covers (5 minutes by
/// default, longer after an outage), so its energy, counts and level time are shared out over the
/// quarter hours it overlaps, in proportion to the overlap.
public enum TelemetryBuckets {
    public static let seconds = 900.0

    /// One quarter hour's share of a report.
    public struct Share: Hashable, Sendable {
        /// Start of the quarter hour (UTC, a multiple of 900 s since 1970).
        public var bucket: Instant
        public var energyWh: Double
        public var detections: Int
        /// Lit seconds and level percent-seconds, 0 when the report had none.
        public var litSeconds: Double
        public var levelPercentSeconds: Double

        public init(bucket: Instant, energyWh: Double, detections: Int, litSeconds: Double = 0, levelPercentSeconds: Double = 0) {
            self.bucket = bucket
            self.energyWh = energyWh
            self.detections = detections
            self.litSeconds = litSeconds
            self.levelPercentSeconds = levelPercentSeconds
        }
    }

    /// The start of the quarter hour containing `t`.
    public static func bucket(containing t: Instant) -> Instant {
        Instant(secondsSinceEpoch: (t.secondsSinceEpoch / seconds).rounded(.down) * seconds)
    }

    /// Shares of a report over its interval: energy and level time in proportion to the overlap
    /// (the report does not say when within the interval the lamp was lit); detections too,
    /// rounded so that the shares add up to the report's count exactly (largest remainders).
    public static func split(_ report: TelemetryReport) -> [Share] {
        split(from: report.from, to: report.to, energyWh: report.energyWh, detections: report.detections,
              litSeconds: report.litSeconds ?? 0, levelPercentSeconds: report.levelPercentSeconds ?? 0)
    }

    /// Shares of a report over [from, to) (see `split(_:)`).
    public static func split(from: Instant, to: Instant, energyWh: Double, detections: Int,
                             litSeconds: Double = 0, levelPercentSeconds: Double = 0) -> [Share] {
        guard to > from else {
            return [Share(bucket: bucket(containing: from), energyWh: energyWh, detections: detections,
                          litSeconds: litSeconds, levelPercentSeconds: levelPercentSeconds)]
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
                shares.append(Share(bucket: start, energyWh: energyWh * f, detections: Int((Double(detections) * f).rounded(.down)),
                                    litSeconds: litSeconds * f, levelPercentSeconds: levelPercentSeconds * f))
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
