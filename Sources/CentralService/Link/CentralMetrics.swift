import CentralCore
import CentralStore
import LightCore
import Prometheus

/// The control plane's figures for Prometheus (`GET /metrics`): what the ingest does as it
/// happens, and what the route state is at the moment of the scrape.
public final class CentralMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let messages: Counter
    let malformed: Counter
    let telemetryReports: Counter
    /// Transactions that stored telemetry: reports / batches is the mean batch size.
    let telemetryBatches: Counter
    let telemetryDropped: Counter
    /// Seconds from a report's own timestamp to its ingest, for the latest report.
    let lag: Gauge
    private let polesOnline: Gauge
    private let polesKnown: Gauge
    private let alarmsOpen: Gauge

    public init() {
        messages = registry.makeCounter(name: "lichtweg_central_mqtt_messages_total", help: "MQTT messages received from the poles")
        malformed = registry.makeCounter(name: "lichtweg_central_mqtt_malformed_total", help: "Malformed messages dropped")
        telemetryReports = registry.makeCounter(name: "lichtweg_central_telemetry_reports_total",
                                                help: "Telemetry reports stored (duplicates not counted)")
        telemetryBatches = registry.makeCounter(name: "lichtweg_central_telemetry_batches_total",
                                                help: "Transactions that stored telemetry reports")
        telemetryDropped = registry.makeCounter(name: "lichtweg_central_telemetry_dropped_total",
                                                help: "Reports dropped because too many waited for an unavailable database")
        lag = registry.makeGauge(name: "lichtweg_central_ingest_lag_seconds",
                                 help: "Seconds from the latest report's timestamp to its ingest")
        polesOnline = registry.makeGauge(name: "lichtweg_central_poles_online", help: "Poles whose last word was online")
        polesKnown = registry.makeGauge(name: "lichtweg_central_poles_known", help: "Poles that have reported at all")
        alarmsOpen = registry.makeGauge(name: "lichtweg_central_alarms_open", help: "Alarms raised and not cleared")
    }

    /// The Prometheus text, with the state figures read now.
    public func scrape(storage: any CentralStorage, rollouts: RolloutCoordinator) async throws -> String {
        var online = 0
        var known = 0
        for route in try await storage.routes() {
            let poles = try await storage.poleSnapshots(route: route.id)
            known += poles.count
            online += poles.filter(\.online).count
            let gauge = { (name: String, help: String) in
                self.registry.makeGauge(name: name, labels: [("route", route.id)], help: help)
            }
            if let rollout = try await rollouts.current(route: route.id)?.rollout {
                gauge("lichtweg_central_rollout_poles_applied", "Poles that applied the route's latest rollout")
                    .set(Double(rollout.appliedCount))
                gauge("lichtweg_central_rollout_poles", "Poles in the route's latest rollout").set(Double(rollout.plan.poles.count))
                gauge("lichtweg_central_rollout_running", "1 while the route's rollout is neither completed nor halted")
                    .set(rollout.state.isFinished ? 0.0 : 1.0)
            }
        }
        polesOnline.set(Double(online))
        polesKnown.set(Double(known))
        alarmsOpen.set(Double(try await storage.alarms(route: nil, openOnly: true).count))
        return registry.emitToString()
    }
}
