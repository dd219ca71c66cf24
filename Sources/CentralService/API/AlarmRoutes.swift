import CentralCore
import CentralStore
import Foundation
import Hummingbird
import LightCore
import PoleProtocol

/// Alarms (the poles' faults with a lifecycle) and energy per quarter hour.
struct AlarmRoutes {
    let storage: any CentralStorage
    let registry: ProfileRegistry
    let clock: @Sendable () -> Instant

    struct Alarm: ResponseEncodable {
        var id: Int64?
        var pole: String
        var route: String
        var code: String
        var sensor: String?
        var detail: String?
        var raisedAt: String
        var acknowledgedAt: String?
        var acknowledgedBy: String?
        var clearedAt: String?
        var open: Bool

        init(_ a: AlarmRecord) {
            id = a.id
            pole = a.pole
            route = a.route
            code = a.code
            sensor = a.sensor
            detail = a.detail
            raisedAt = a.raisedAt.description
            acknowledgedAt = a.acknowledgedAt?.description
            acknowledgedBy = a.acknowledgedBy
            clearedAt = a.clearedAt?.description
            open = a.isOpen
        }
    }

    struct Bucket: Encodable, Sendable {
        var start: String
        var energyWh: Double
        var detections: Int
        /// Pole-seconds lit in the quarter hour.
        var litSeconds: Double
        /// Mean level while lit, percent; absent when nothing was lit (or only older firmware reported).
        var meanLitLevelPercent: Double?

        init(_ b: EnergyBucket) {
            start = b.bucket.description
            energyWh = b.energyWh
            detections = b.detections
            litSeconds = b.litSeconds
            meanLitLevelPercent = b.meanLitLevelPercent
        }
    }

    struct Energy: ResponseEncodable {
        var from: String
        var to: String
        var totalWh: Double
        /// Full light from switch-on to switch-off over the quarter hours with reports, by the latest
        /// profile (routes only); absent without reports.
        var fullLightWh: Double?
        /// 1 − totalWh / fullLightWh: meaningful when every pole reported in those quarter hours.
        var savingsVsFull: Double?
        var buckets: [Bucket]
    }

    func add(to api: RouterGroup<CentralContext>) {
        api.get("alarms") { request, context -> ProfileRoutes.List<Alarm> in
            _ = try context.require(.viewer)
            let route = request.uri.queryParameters.get("route")
            let open: Bool
            switch request.uri.queryParameters.get("open") {
            case nil, "false": open = false
            case "true": open = true
            default: throw APIError(.badRequest, "bad-request", "open must be true or false")
            }
            return ProfileRoutes.List(items: try await storage.alarms(route: route, openOnly: open).map(Alarm.init))
        }
        api.post("alarms/:id/acknowledge") { _, context -> Alarm in
            let user = try context.require(.engineer)
            guard let id = context.parameters.get("id", as: Int64.self) else {
                throw APIError(.badRequest, "bad-request", "the alarm id must be a whole number")
            }
            guard let alarm = try await storage.acknowledgeAlarm(id: id, by: user.name, at: clock()) else {
                throw APIError.notFound("alarm \(id)")
            }
            try await storage.appendAudit(AuditEntry(at: clock(), actor: user.name, action: "alarm.acknowledge",
                                                     subject: "alarm \(id)", detail: "\(alarm.code) at \(alarm.pole)"))
            return Alarm(alarm)
        }
        api.get("routes/:route/energy") { request, context -> Energy in
            _ = try context.require(.viewer)
            let route = try context.parameters.require("route")
            guard try await storage.route(route) != nil else { throw APIError.notFound("route \(route)") }
            let (from, to) = try Self.period(request)
            let buckets = try await storage.energy(route: route, from: from, to: to)
            var energy = Self.energy(from, to, buckets)
            // The baseline covers only the quarter hours the poles reported for: a period without
            // reports has no savings, not 100 %.
            if !buckets.isEmpty, let latest = try await storage.profileVersions(route: route).first,
               case let .success(profile) = registry.check(latest.document) {
                let full = buckets.reduce(0.0) {
                    $0 + FullLightBaseline.wattHours(profile: profile, from: $1.bucket, to: $1.bucket + TelemetryBuckets.seconds)
                }
                energy.fullLightWh = full
                energy.savingsVsFull = full > 0 ? 1 - energy.totalWh / full : nil
            }
            return energy
        }
        api.get("poles/:pole/energy") { request, context -> Energy in
            _ = try context.require(.viewer)
            let pole = try context.parameters.require("pole")
            let (from, to) = try Self.period(request)
            return Self.energy(from, to, try await storage.energy(pole: pole, from: from, to: to))
        }
    }

    /// `from`/`to` query parameters as ISO 8601 instants; the last 24 hours by default, at most 400 days.
    static func period(_ request: Request) throws -> (Instant, Instant) {
        let now = Instant(secondsSinceEpoch: Date().timeIntervalSince1970)
        func instant(_ name: String, _ fallback: Instant) throws -> Instant {
            guard let text = request.uri.queryParameters.get(name) else { return fallback }
            guard let value = Timestamp.parse(text) else {
                throw APIError(.badRequest, "bad-request", "'\(name)' must be an ISO 8601 instant such as 2026-11-23T17:00:00Z")
            }
            return value
        }
        let to = try instant("to", now)
        let from = try instant("from", to - 86_400)
        // 2000-01-01 to 2200-01-01: beyond, there is nothing to show and no date to write.
        guard from.secondsSinceEpoch >= 946_684_800, to.secondsSinceEpoch <= 7_258_118_400 else {
            throw APIError(.badRequest, "bad-request", "the period must lie between 2000 and 2200")
        }
        guard from < to, to - from <= 400 * 86_400 else {
            throw APIError(.badRequest, "bad-request", "'from' must be before 'to', and the period at most 400 days")
        }
        return (from, to)
    }

    static func energy(_ from: Instant, _ to: Instant, _ buckets: [EnergyBucket]) -> Energy {
        Energy(from: from.description, to: to.description, totalWh: buckets.reduce(0) { $0 + $1.energyWh },
               fullLightWh: nil, savingsVsFull: nil, buckets: buckets.map(Bucket.init))
    }
}
