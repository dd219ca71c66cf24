import Foundation
import LightCore
import RouteSim

/// The road users' light ahead in a live window: as the live lamps gave it, as the virtual run
/// gave it, and, with `--network-draws`, as the simulator predicts it over draws of the network.
///
/// Under random latency and loss (a lossy radio link, `tc netem`) the live decisions cannot match
/// the virtual ones one by one: which notice is late is luck. What must hold is that the road
/// users fare as the simulator predicts for that network: the live ratio within the central 95 %
/// of the predicted ones, widened by what the live measurement cannot resolve.
struct LiveLightAhead: Encodable {
    var live: WindowLightAhead
    var virtual: WindowLightAhead
    var predicted: Prediction?

    struct Prediction: Encodable {
        var draws: Int
        /// The network the draws were made with.
        var network: String
        /// The 2.5th, 50th and 97.5th percentiles and the mean of the predicted ratios.
        var low: Double
        var median: Double
        var high: Double
        var mean: Double
        /// How far the live ratio may be outside [low, high] for what the simulator does not
        /// model and the measurement cannot resolve: each dark stretch has two ends, each seen up
        /// to half a sampling interval off, up to the replay's worst lateness late, and up to the
        /// pole's own reaction (`--tolerance`) late.
        var allowance: Double
        var withinPrediction: Bool
    }

    /// The central 95 % of predicted ratios, their median and mean.
    struct Range {
        var low, median, high, mean: Double

        init(_ ratios: [Double]) {
            let sorted = ratios.sorted()
            precondition(!sorted.isEmpty, "no predicted ratios")
            func quantile(_ q: Double) -> Double {
                // Linear between order statistics.
                let x = q * Double(sorted.count - 1)
                let i = Int(x.rounded(.down)), f = x - Double(i)
                return i + 1 < sorted.count ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i]
            }
            low = quantile(0.025)
            median = quantile(0.5)
            high = quantile(0.975)
            mean = sorted.reduce(0, +) / Double(sorted.count)
        }
    }

    init(plan: LiveWindow, samples: [[(time: Double, level: Double)]], draws: Int, sampleMs: Double,
         replayLateMax: Double, ownReaction: Double, network: NetworkModel) {
        live = plan.lightAhead(ofSamples: samples)
        virtual = plan.lightAhead()
        guard draws > 0 else { return }
        let range = Range(plan.predictedLightAhead(draws: draws).map(\.ratio))
        let perEnd = sampleMs / 2000 + max(0, replayLateMax) + ownReaction
        let allowance = live.exposedSeconds > 0 ? Double(live.darkEpisodes) * 2 * perEnd / live.exposedSeconds : 0
        let low = range.low, high = range.high
        let described = network.latencySamples.isEmpty
            ? String(format: "log-normal latency, median %.3f s, p95 %.3f s; loss %.3f", network.latencyMedian, network.latencyP95, network.loss)
            : String(format: "%d measured latencies, median %.3f s, p95 %.3f s; loss %.3f", network.latencySamples.count,
                     network.latencyMedian, network.latencyP95, network.loss)
        predicted = Prediction(draws: draws, network: described, low: low, median: range.median, high: high,
                               mean: range.mean, allowance: allowance,
                               withinPrediction: live.ratio >= low - allowance && live.ratio <= high + allowance)
    }
}
