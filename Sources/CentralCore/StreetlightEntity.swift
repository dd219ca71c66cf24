import LightCore

/// A pole as a FIWARE Smart Data Models `Streetlight` entity in NGSI-LD (normalised form), for the
/// regional urban data platform. What leaves is the pole's place and its lamp's state: no
/// presence data at all.
public struct StreetlightEntity: Encodable, Hashable, Sendable {
    public static let context = [
        "https://raw.githubusercontent.com/smart-data-models/dataModel.Streetlighting/master/context.jsonld",
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
    ]

    public struct Property<Value: Encodable & Hashable & Sendable>: Encodable, Hashable, Sendable {
        public var type = "Property"
        public var value: Value
    }

    public struct GeoPoint: Encodable, Hashable, Sendable {
        public var type = "Point"
        /// GeoJSON order: longitude, latitude.
        public var coordinates: [Double]
    }

    public struct GeoProperty: Encodable, Hashable, Sendable {
        public var type = "GeoProperty"
        public var value: GeoPoint
    }

    public struct Relationship: Encodable, Hashable, Sendable {
        public var type = "Relationship"
        public var object: String
    }

    public var id: String
    public var type = "Streetlight"
    public var name: Property<String>
    public var location: GeoProperty
    /// `ok` or `defectiveLamp` (a lamp failure is open).
    public var status: Property<String>
    /// `on` (100 %), `low` (dimmed), `off`; absent while the pole has not reported.
    public var powerState: Property<String>?
    /// 0…1.
    public var illuminanceLevel: Property<Double>?
    public var controllingMethod = Property(value: "individual")
    public var locationCategory = Property(value: "road")
    public var refStreetlightGroup: Relationship
    public var dateModified: Property<String>?
    public var context = StreetlightEntity.context

    enum CodingKeys: String, CodingKey {
        case id, type, name, location, status, powerState, illuminanceLevel, controllingMethod, locationCategory,
             refStreetlightGroup, dateModified, context = "@context"
    }

    /// The entity of `pole` at `position` on `route`, with its last report if there is one.
    public init(route: String, pole: String, position: LightCore.GeoPoint, snapshot: PoleSnapshot?) {
        id = "urn:ngsi-ld:Streetlight:\(route):\(pole)"
        name = Property(value: pole)
        location = GeoProperty(value: GeoPoint(coordinates: [position.longitude, position.latitude]))
        refStreetlightGroup = Relationship(object: "urn:ngsi-ld:StreetlightGroup:\(route)")
        status = Property(value: snapshot?.faults.contains("lamp-failure") == true ? "defectiveLamp" : "ok")
        if let snapshot, let level = snapshot.level {
            powerState = Property(value: level <= 0 ? "off" : level >= 100 ? "on" : "low")
            illuminanceLevel = Property(value: min(1, max(0, level / 100)))
            dateModified = Property(value: snapshot.updatedAt.description)
        }
    }
}
