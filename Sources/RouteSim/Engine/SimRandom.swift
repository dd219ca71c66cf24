/// The simulator's random numbers: xoshiro256** seeded through SplitMix64, so a run is the same on
/// every machine and every Swift version for the same seed (the standard library's generator is
/// neither seedable nor stable).
public struct SimRandom: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// A generator for a sub-stream (a night, a purpose), independent of the others.
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) &+ stream)
    }

    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    // MARK: - Distributions

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    public mutating func uniform(_ range: ClosedRange<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * unit()
    }

    public mutating func chance(_ p: Double) -> Bool { p > 0 && unit() < p }

    /// A whole number in 0..<count, each as likely (count > 0).
    public mutating func index(below count: Int) -> Int { min(count - 1, Int(unit() * Double(count))) }

    /// Exponential with the given rate (events per unit).
    public mutating func exponential(rate: Double) -> Double {
        -Foundation_log(1 - unit()) / rate
    }

    /// Standard normal (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return Foundation_sqrt(-2 * Foundation_log(u1)) * Foundation_cos(2 * Double.pi * u2)
    }

    /// Log-normal given its median and 95th percentile.
    public mutating func logNormal(median: Double, p95: Double) -> Double {
        guard median > 0 else { return 0 }
        let sigma = p95 > median ? Foundation_log(p95 / median) / 1.6448536 : 0
        return median * Foundation_exp(sigma * normal())
    }
}
