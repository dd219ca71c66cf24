import LightCore
import PoleIO
import PoleProtocol

/// The pole's own configuration (`/etc/lichtweg/pole.yaml`): who it is, where the broker is and
/// how its hardware is wired. What the lamp does is the route profile's business, not this file's.
public struct PoleConfig: Hashable, Sendable {
    public enum Backend: String, Hashable, Sendable {
        /// Real hardware: libgpiod and sysfs PWM.
        case gpiod
        /// The named simulation of the physical side (`SimulatedPole`); never the default.
        case sim
    }

    public struct MQTT: Hashable, Sendable {
        public var host: String
        public var port: Int
        public var tls: Bool
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?
        public var credentialsFile: String?
        public var keepAliveSeconds: Int = 30
    }

    public struct SensorLine: Hashable, Sendable {
        public var id: String
        public var line: UInt32
        public var bias: LineBias
        public var activeLow: Bool
    }

    public struct OutputLine: Hashable, Sendable {
        public var line: UInt32
        public var activeLow: Bool
    }

    public struct GPIO: Hashable, Sendable {
        public var chip: String
        public var sensors: [SensorLine]
        public var relay: OutputLine?
        public var lampFeedback: SensorLine?
    }

    public struct PWM: Hashable, Sendable {
        public var chip: Int
        public var channel: Int
        public var frequencyHz: Double = 1000
        public var polarity: SysfsPWM.Polarity = .normal
        public var rampStepHz: Double = 100
    }

    public var pole: String
    public var route: String
    public var backend: Backend
    public var dataDirectory: String
    public var profileKey: String
    public var mqtt: MQTT
    public var gpio: GPIO
    public var pwm: PWM
    /// Where the pole stands: lets the built-in failsafe program switch at sunset and sunrise
    /// before any profile has arrived (without it the failsafe lamp stays on day and night).
    public var location: GeoPoint?
    /// Telemetry interval.
    public var telemetrySeconds: Double = 300
    /// Faults and acknowledgements kept while the broker is unreachable; the oldest go first.
    public var outboxCapacity: Int = 1000
}
