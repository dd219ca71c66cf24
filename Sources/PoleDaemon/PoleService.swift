import Crypto
import FoundationEssentials
import LightCore
import Logging
import PoleIO
import PoleLink
import PoleProtocol
import ServiceLifecycle

/// The pole daemon as a service: starts the controller, feeds it the inputs, the network and a
/// slow tick, tells systemd it is ready, and on SIGTERM/SIGINT stops with the lamp where the
/// schedule wants it.
public struct PoleService: Service {
    public let controller: PoleController
    public let hardware: PoleHardware
    public let link: MQTTLink?
    public let notifier: SystemdNotifier
    public let logger: Logger

    public init(controller: PoleController, hardware: PoleHardware, link: MQTTLink?, notifier: SystemdNotifier, logger: Logger) {
        self.controller = controller
        self.hardware = hardware
        self.link = link
        self.notifier = notifier
        self.logger = logger
    }

    public func run() async throws {
        await controller.start()
        try link?.start()
        notifier.notify("READY=1\nSTATUS=lighting")
        await controller.markReady()
        let inputs = hardware.inputs
        let controller = controller
        let link = link
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await edge in inputs.edges { await controller.handle(edge) }
                }
                if let link {
                    group.addTask {
                        for await event in link.events { await controller.handle(event) }
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(5))
                        await controller.tick()
                    }
                }
            }
        }
        notifier.notify("STOPPING=1")
        await controller.stop()
        link?.stop()
        hardware.inputs.close()
    }
}

/// Pings systemd's watchdog at half its interval while the controller answers: a hung actor
/// stops the pings and systemd restarts the daemon.
public struct WatchdogService: Service {
    public let interval: Double
    public let controller: PoleController
    public let notifier: SystemdNotifier

    public init(interval: Double, controller: PoleController, notifier: SystemdNotifier) {
        self.interval = interval
        self.controller = controller
        self.notifier = notifier
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                // Answers only if the actor is not stuck; no pings before READY=1.
                if await controller.isReady { notifier.notify("WATCHDOG=1") }
                try? await Task.sleep(for: .seconds(interval / 2))
            }
        }
    }
}

/// Builds everything the daemon needs from its configuration.
public enum PoleDaemon {
    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func loadConfig(path: String) throws -> PoleConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SetupError(description: "\(path): cannot read the file")
        }
        switch PoleConfigLoader.load(text, file: path) {
        case let .success(config): return config
        case let .failure(diagnostics): throw SetupError(description: diagnostics.description)
        }
    }

    /// Checks what the configuration refers to: the key, TLS and credentials files, the data directory.
    public static func check(_ config: PoleConfig) throws -> (key: Curve25519.Signing.PublicKey, username: String?, password: String?) {
        guard let keyData = FileManager.default.contents(atPath: config.profileKey) else {
            throw SetupError(description: "profileKey: cannot read \(config.profileKey)")
        }
        let key: Curve25519.Signing.PublicKey
        do {
            key = try SigningKeys.publicKey(fromFileText: String(decoding: keyData, as: UTF8.self))
        } catch {
            throw SetupError(description: "profileKey: \(config.profileKey): \(error)")
        }
        for (name, path) in [("mqtt.caFile", config.mqtt.caFile), ("mqtt.certFile", config.mqtt.certFile), ("mqtt.keyFile", config.mqtt.keyFile)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) { throw SetupError(description: "\(name): cannot read \(path)") }
        }
        var username: String?, password: String?
        if let path = config.mqtt.credentialsFile {
            guard let data = FileManager.default.contents(atPath: path) else { throw SetupError(description: "mqtt.credentialsFile: cannot read \(path)") }
            let line = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw SetupError(description: "mqtt.credentialsFile: \(path): expected one line 'username:password'")
            }
            username = String(line[..<colon])
            password = String(line[line.index(after: colon)...])
        }
        var isDirectory = false
        if !FileManager.default.fileExists(atPath: config.dataDirectory, isDirectory: &isDirectory) {
            do {
                try FileManager.default.createDirectory(atPath: config.dataDirectory, withIntermediateDirectories: true)
            } catch {
                throw SetupError(description: "dataDirectory: cannot create \(config.dataDirectory): \(error)")
            }
        } else if !isDirectory {
            throw SetupError(description: "dataDirectory: \(config.dataDirectory) is not a directory")
        }
        guard FileManager.default.isWritableFile(atPath: config.dataDirectory) else {
            throw SetupError(description: "dataDirectory: \(config.dataDirectory) is not writable")
        }
        return (key, username, password)
    }

    /// The MQTT link with the pole's birth/last-will and TLS settings.
    public static func makeLink(_ config: PoleConfig, username: String?, password: String?, logger: Logger) throws -> MQTTLink {
        var options = MQTTOptions(host: config.mqtt.host, port: config.mqtt.port, clientID: "lichtweg-pole-\(config.pole)")
        options.keepAliveSeconds = config.mqtt.keepAliveSeconds
        options.caFile = config.mqtt.caFile
        options.certFile = config.mqtt.certFile
        options.keyFile = config.mqtt.keyFile
        options.username = username
        options.password = password
        options.will = MQTTMessage(topic: Topics.online(config.pole),
                                   payload: PayloadCodec.encode(OnlinePayload(pole: config.pole, online: false, firmware: Firmware.version, at: nil)),
                                   qos: 1, retain: true)
        return try MQTTLink(options: options, logger: logger)
    }
}
