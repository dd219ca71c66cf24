import CentralCore
import CentralStore
import Foundation
import Hummingbird
import LightCore
import ProfileFormat
import RouteSim
import Synchronization

/// What an engineer looks at before rolling a profile out: the plan of a night, and the
/// simulator's energy and safety figures over a few nights of modelled traffic. The simulation is
/// the one the CI gates use (`RouteSim`), run in the server.
struct PreviewRoutes {
    let storage: any CentralStorage
    let registry: ProfileRegistry
    /// Where the traffic models are (`Profiles/traffic`): `NAME.yaml` each.
    let trafficDirectory: String?

    struct Preview: Decodable {
        var document: String
        var date: String?
        var nights: Int?
        var traffic: String?
    }

    struct Night: Encodable, Sendable {
        struct Step: Encodable, Sendable {
            var at: String
            var level: Double
            var lightingClass: String
            var minimum: Double
            enum CodingKeys: String, CodingKey { case at, level, lightingClass = "class", minimum }
        }

        var date: String
        var program: String
        var switchOn: String?
        var switchOff: String?
        var steps: [Step]
        var energyWh: Double
        var fullLightWh: Double
    }

    struct Simulation: Encodable, Sendable {
        var model: String
        var nights: Int
        var from: String
        var energyKWh: Double
        var baselineFullKWh: Double
        var savingsVsFull: Double
        var darkExposureSeconds: Double
        var lightAheadRatio: Double
        var switchCyclesPerLampNight: Double
    }

    struct Result: ResponseEncodable {
        var route: String
        var version: Int
        var night: Night
        var simulation: Simulation?
    }

    struct Layout: ResponseEncodable {
        struct Pole: Encodable, Sendable {
            var id: String
            var chainage: Double
            var lat: Double
            var lon: Double
        }

        var route: String
        var name: String
        var version: Int
        var poles: [Pole]
    }

    /// Simulations run one at a time: each takes a CPU core for up to a few seconds.
    private static let simulationSlot = SimulationSlot()

    func add(to api: RouterGroup<CentralContext>) {
        api.post("profiles/preview") { request, context -> Result in
            _ = try context.require(.viewer)
            let input = try await request.json(Preview.self, limit: BodyLimit.document)
            let profile = try ProfileRoutes.map(registry.check(input.document))
            let zone = ZoneRules(identifier: profile.route.timeZone) ?? .utc
            let date: LocalDate
            if let text = input.date {
                guard let d = LocalDate(iso: text), (2000...2199).contains(d.year) else {
                    throw APIError(.badRequest, "bad-request", "'date' must be YYYY-MM-DD between 2000 and 2199")
                }
                date = d
            } else {
                date = zone.local(Instant(secondsSinceEpoch: Date().timeIntervalSince1970)).date
            }
            let nights = input.nights ?? 7
            guard (1...31).contains(nights) else { throw APIError(.badRequest, "bad-request", "'nights' must be 1 to 31") }
            let night = Self.night(profile: profile, date: date)
            var simulation: Simulation?
            if let model = try loadModel(named: input.traffic, for: profile) {
                simulation = await Self.simulationSlot.run { Self.simulate(profile: profile, model: model, from: date, nights: nights) }
            }
            return Result(route: profile.route.id, version: profile.version, night: night, simulation: simulation)
        }
        api.get("traffic-models") { _, context -> ProfileRoutes.List<String> in
            _ = try context.require(.viewer)
            return ProfileRoutes.List(items: modelNames())
        }
        api.get("routes/:route/layout") { _, context -> Layout in
            _ = try context.require(.viewer)
            let route = try context.parameters.require("route")
            guard let latest = try await storage.profileVersions(route: route).first else { throw APIError.notFound("route \(route)") }
            let profile = try ProfileRoutes.map(registry.check(latest.document))
            return Layout(route: route, name: profile.route.name, version: latest.version, poles: profile.route.poles.map {
                Layout.Pole(id: $0.id, chainage: $0.chainage, lat: $0.position.latitude, lon: $0.position.longitude)
            })
        }
    }

    // MARK: - Night and simulation

    static func night(profile: Profile, date: LocalDate) -> Night {
        let preview = NightPreview(profile: profile, date: date)
        let plan = preview.plan
        func iso(_ i: Instant) -> String { ISO8601.format(i, in: preview.zone) }
        return Night(date: plan.date.description, program: plan.programName,
                     switchOn: plan.isLitAtAll ? iso(plan.switchOn) : nil, switchOff: plan.isLitAtAll ? iso(plan.switchOff) : nil,
                     steps: plan.isLitAtAll ? plan.steps.map {
                         Night.Step(at: iso($0.start), level: $0.level.percent, lightingClass: $0.lightingClass.description,
                                    minimum: $0.minimum.percent)
                     } : [],
                     energyWh: (preview.energyWattHours * 10).rounded() / 10,
                     fullLightWh: (preview.fullLightWattHours * 10).rounded() / 10)
    }

    static func simulate(profile: Profile, model: SimulationModel, from: LocalDate, nights: Int) -> Simulation {
        var simulator = RouteSimulator(profile: profile, model: model, seed: 1)
        var summary = SimulationSummary(profile: profile, model: model, seed: 1, from: from)
        simulator.run(nights: (0..<nights).map { from.adding(days: $0) }) { record in
            summary.add(record, analysis: record.lightAhead(profile: profile, model: model), profile: profile)
        }
        summary.finish(wallSeconds: 1, eventsByKind: simulator.eventsByKind)
        let m = summary.metrics
        return Simulation(model: model.name, nights: nights, from: from.description, energyKWh: m["energyKWh"] ?? 0,
                          baselineFullKWh: m["baselineFullKWh"] ?? 0, savingsVsFull: m["savingsVsFull"] ?? 0,
                          darkExposureSeconds: m["darkExposureSeconds"] ?? 0, lightAheadRatio: m["lightAheadRatio"] ?? 1,
                          switchCyclesPerLampNight: m["switchCyclesPerLampNight"] ?? 0)
    }

    // MARK: - Traffic models

    func modelNames() -> [String] {
        guard let dir = trafficDirectory, let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return files.filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
    }

    /// The named model, else the route's own, else `rural-night`; nil when there is no traffic folder.
    func loadModel(named name: String?, for profile: Profile) throws -> SimulationModel? {
        guard let dir = trafficDirectory else { return nil }
        let names = modelNames()
        let chosen: String
        if let name {
            guard names.contains(name) else {
                throw APIError(.badRequest, "unknown-traffic", "no traffic model '\(name)'; there are: \(names.joined(separator: ", "))")
            }
            chosen = name
        } else if names.contains(profile.route.id) {
            chosen = profile.route.id
        } else if names.contains("rural-night") {
            chosen = "rural-night"
        } else {
            return nil
        }
        let path = "\(dir)/\(chosen).yaml"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        switch SimulationModelLoader.load(text, file: path) {
        case let .success(model): return model
        case let .failure(problems):
            throw APIError(.unprocessableContent, "invalid-traffic", "the traffic model \(chosen) is not valid",
                           details: problems.diagnostics.map { APIError.Detail(line: $0.line, field: $0.path, message: $0.message) })
        }
    }
}

/// One simulation at a time, the others waiting their turn, each on a thread of its own. A
/// simulation keeps a thread busy for up to a few seconds; on the shared executor (two threads on
/// a two-core machine) it would hold back the requests, the ingest and the rollouts meanwhile, as
/// the tests' simulations once held back the pole's lamp ramps.
final class SimulationSlot: Sendable {
    private let turn = Mutex(())

    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { [self] in
                let result = turn.withLock { _ in work() }
                continuation.resume(returning: result)
            }.start()
        }
    }
}
