import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import Logging
import PoleDaemon
import ServiceLifecycle

/// `lichtweg-pole`: the pole controller daemon.
@main
struct LichtwegPole: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lichtweg-pole",
        abstract: "Lichtweg pole controller: presence sensors to light, autonomous schedule, MQTT to the control plane.",
        version: Firmware.version)

    @Option(name: .long, help: "The pole's configuration file.")
    var config: String?

    @Option(name: .long, help: "Check a configuration file (and the files it names), then exit: 0 if usable, 2 if not.")
    var checkConfig: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "lichtweg-pole")
        if let path = checkConfig {
            do {
                let config = try PoleDaemon.loadConfig(path: path)
                _ = try PoleDaemon.check(config)
                print("\(path): ok — pole \(config.pole) on route \(config.route), backend \(config.backend.rawValue), broker \(config.mqtt.tls ? "mqtts" : "mqtt")://\(config.mqtt.host):\(config.mqtt.port)")
                return
            } catch {
                writeToStandardError("\(error)\n")
                throw ExitCode(2)
            }
        }
        guard let path = config else {
            writeToStandardError("lichtweg-pole: give --config PATH (or --check-config PATH)\n")
            throw ExitCode(2)
        }
        let setup: (PoleService, WatchdogService?)
        do {
            let config = try PoleDaemon.loadConfig(path: path)
            let (key, username, password) = try PoleDaemon.check(config)
            let hardware = try PoleHardware.open(config)
            let link = try PoleDaemon.makeLink(config, username: username, password: password, logger: logger)
            let lampLogger = logger
            let lamp = try LampDriver(dimming: hardware.dimming, relay: hardware.relay, stepHz: config.pwm.rampStepHz,
                                  clock: PoleController.Clock.system.now,
                                  onError: { lampLogger.error("lamp output failed", metadata: ["error": "\($0)"]) })
            let controller = PoleController(config: config, publicKey: key, inputs: hardware.inputs, lamp: lamp, link: link,
                                            logger: logger)
            let notifier = SystemdNotifier()
            let watchdog = SystemdNotifier.watchdogInterval().map { WatchdogService(interval: $0, controller: controller, notifier: notifier) }
            setup = (PoleService(controller: controller, hardware: hardware, link: link, notifier: notifier, logger: logger), watchdog)
        } catch {
            logger.critical("cannot start", metadata: ["error": "\(error)"])
            throw ExitCode(2)
        }
        var services: [any Service] = [setup.0]
        if let watchdog = setup.1 { services.append(watchdog) }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// One write(2) to standard error, for the messages an operator reads before logging is set up.
private func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = write(2, &bytes, bytes.count)
}
