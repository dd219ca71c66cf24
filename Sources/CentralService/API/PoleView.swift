import CentralCore
import LightCore

/// A pole's last report, as the UI shows it.
public struct PoleView: Encodable, Sendable {
    var pole: String
    var route: String
    var online: Bool
    var level: Double?
    var state: String?
    var profileVersion: Int?
    var faults: [String]
    var firmware: String?
    var updatedAt: String

    init(_ s: PoleSnapshot) {
        pole = s.pole
        route = s.route
        online = s.online
        level = s.level
        state = s.state
        profileVersion = s.profileVersion
        faults = s.faults
        firmware = s.firmware
        updatedAt = s.updatedAt.description
    }
}
