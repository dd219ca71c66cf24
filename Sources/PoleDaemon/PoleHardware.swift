import FoundationEssentials
import LightCore
import PoleIO

/// The pole's inputs and outputs for the configured backend.
public struct PoleHardware: Sendable {
    public var inputs: any InputSource
    public var dimming: any DimmingOutput
    public var relay: (any SwitchOutput)?

    /// Opens the GPIO lines and the PWM channel (`gpiod`), or sets up the named simulation (`sim`).
    public static func open(_ config: PoleConfig) throws -> PoleHardware {
        var lines = config.gpio.sensors.map {
            InputLineConfig(role: .sensor($0.id), offset: $0.line, bias: $0.bias, activeLow: $0.activeLow)
        }
        if let f = config.gpio.lampFeedback {
            lines.append(InputLineConfig(role: .lampFeedback, offset: f.line, bias: f.bias, activeLow: f.activeLow))
        }
        switch config.backend {
        case .gpiod:
            let chip = try GPIOChip(config.gpio.chip)
            // The relay starts closed (driver powered): between boot and the first decision the
            // road stays lit rather than dark, as it was while the controller was not running.
            let relay = try config.gpio.relay.map {
                try chip.requestOutput(offset: $0.line, activeLow: $0.activeLow, initial: true, consumer: "lichtweg-pole relay")
            }
            let inputs = try GPIOInputs(chip: chip, lines: lines)
            let pwm = try SysfsPWM(chip: config.pwm.chip, channel: config.pwm.channel,
                                   frequencyHz: config.pwm.frequencyHz, polarity: config.pwm.polarity)
            return PoleHardware(inputs: inputs, dimming: pwm, relay: relay)
        case .sim:
            let sim = try SimulatedPole(directory: "\(config.dataDirectory)/sim", sensors: config.gpio.sensors.map(\.id),
                                        lampFeedback: config.gpio.lampFeedback != nil)
            let pwm = try SysfsPWM(root: sim.pwmRoot, chip: 0, channel: 0, frequencyHz: config.pwm.frequencyHz,
                                   polarity: config.pwm.polarity)
            return PoleHardware(inputs: sim, dimming: pwm, relay: sim)
        }
    }
}
