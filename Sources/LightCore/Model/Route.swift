/// A pilot route: one road between villages and the poles along it, in order of chainage.
public struct Route: Hashable, Sendable {
    public var id: String
    public var name: String
    /// IANA time-zone identifier of the road, e.g. `Europe/Berlin`.
    public var timeZone: String
    /// A reference point for astronomical calculations (usually the middle of the route).
    public var location: GeoPoint
    /// Luminaire types used on the route, by name.
    public var luminaires: [String: Luminaire]
    /// The poles in order along the road (increasing chainage).
    public var poles: [Pole]

    public init(id: String, name: String, timeZone: String, location: GeoPoint,
                luminaires: [String: Luminaire], poles: [Pole]) {
        self.id = id
        self.name = name
        self.timeZone = timeZone
        self.location = location
        self.luminaires = luminaires
        self.poles = poles
    }

    /// The index of the pole with `id`, if it is on this route.
    public func index(ofPole id: String) -> Int? { poles.firstIndex { $0.id == id } }

    /// Length of the route from the first to the last pole, in metres.
    public var length: Double { (poles.last?.chainage ?? 0) - (poles.first?.chainage ?? 0) }

    /// The luminaire type of a pole; a pole naming an unknown type has none (the validator
    /// reports it).
    public func luminaire(of pole: Pole) -> Luminaire? { luminaires[pole.luminaire] }
}

/// A luminaire type: electrical power at full output and in standby (lamp off, controller on).
public struct Luminaire: Hashable, Sendable {
    /// Watts drawn at 100 % output, driver losses included.
    public var power: Double
    /// Watts drawn with the lamp dark: pole controller, sensors, driver standby.
    public var standby: Double
    public var description: String?

    public init(power: Double, standby: Double, description: String? = nil) {
        self.power = power
        self.standby = standby
        self.description = description
    }

    /// Electrical power at `level`. LED drivers are close to linear in output over the dimming
    /// range; the controller's standby draw is always there.
    public func power(at level: DimLevel) -> Double {
        standby + power * level.percent / 100
    }
}

/// A lighting pole of a route.
public struct Pole: Hashable, Sendable {
    public var id: String
    /// Distance along the road from the route's origin, in metres.
    public var chainage: Double
    public var position: GeoPoint
    /// Name of the luminaire type in `Route.luminaires`.
    public var luminaire: String
    public var sensors: [Sensor]

    public init(id: String, chainage: Double, position: GeoPoint, luminaire: String, sensors: [Sensor]) {
        self.id = id
        self.chainage = chainage
        self.position = position
        self.luminaire = luminaire
        self.sensors = sensors
    }
}

/// Direction of travel along a route, relative to chainage.
public enum TravelDirection: String, Hashable, Sendable, CaseIterable, Codable {
    /// Towards higher chainage.
    case increasing
    /// Towards lower chainage.
    case decreasing

    public var opposite: TravelDirection { self == .increasing ? .decreasing : .increasing }
    /// +1 or −1.
    public var sign: Double { self == .increasing ? 1 : -1 }
}

/// A presence sensor on a pole.
public struct Sensor: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable, CaseIterable { case pir, radar }

    /// Unique on its pole.
    public var id: String
    public var kind: Kind
    /// The direction along the road the sensor looks: a sensor facing `increasing` sees road users
    /// on the higher-chainage side of the pole.
    public var facing: TravelDirection
    /// Detection range along the road, in metres.
    public var range: Double

    public init(id: String, kind: Kind, facing: TravelDirection, range: Double) {
        self.id = id
        self.kind = kind
        self.facing = facing
        self.range = range
    }
}
