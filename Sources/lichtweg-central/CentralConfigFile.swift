import ArgumentParser
import Foundation
import Yams

/// `lichtweg-central serve --config central.yaml`: the same settings as the command-line options,
/// in a file (an option given on the command line wins).
///
/// ```yaml
/// db: sqlite:/var/lib/lichtweg/central.sqlite     # or postgres://USER@HOST:PORT/DB
/// listen: 127.0.0.1:8080
/// httpsCert: /etc/lichtweg/https.crt    # with httpsKey: serve HTTPS (the session cookie is then Secure)
/// httpsKey: /etc/lichtweg/https.key
/// broker: mqtts://broker.example.org:8883
/// brokerCA: /etc/lichtweg/ca.pem
/// brokerCert: /etc/lichtweg/central.crt
/// brokerKey: /etc/lichtweg/central.key
/// brokerCredentials: /etc/lichtweg/central.credentials   # one line username:password
/// signingKey: /etc/lichtweg/profile-signing.key
/// clientID: lichtweg-central-1
/// webRoot: /usr/share/lichtweg/web
/// trafficDir: /usr/share/lichtweg/traffic
/// sharedSubscriptions: false    # true: instances split telemetry (see docs/central.md)
/// sessionExpirySeconds: 604800  # how long the broker keeps this instance's session when it is gone
/// ```
struct CentralConfigFile: Decodable {
    var db: String?
    var listen: String?
    var httpsCert: String?
    var httpsKey: String?
    var broker: String?
    var brokerCA: String?
    var brokerCert: String?
    var brokerKey: String?
    var brokerCredentials: String?
    var signingKey: String?
    var clientID: String?
    var webRoot: String?
    var trafficDir: String?
    var sharedSubscriptions: Bool?
    var sessionExpirySeconds: UInt32?

    static let keys: Set<String> = ["db", "listen", "httpsCert", "httpsKey", "broker", "brokerCA", "brokerCert", "brokerKey", "brokerCredentials",
                                    "signingKey", "clientID", "webRoot", "trafficDir", "sharedSubscriptions",
                                    "sessionExpirySeconds"]

    /// Reads and checks the file; every problem names the file and the key.
    static func load(_ path: String) throws -> CentralConfigFile {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("\(path): cannot read the file")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ValidationError("\(path): not YAML: \(error)")
        }
        guard let mapping = node?.mapping else { throw ValidationError("\(path): expected a mapping of settings") }
        for (key, value) in mapping {
            let name = key.string ?? "?"
            guard keys.contains(name) else {
                throw ValidationError("\(path):\(key.mark?.line ?? 0): '\(name)' is not a setting (known: \(keys.sorted().joined(separator: ", ")))")
            }
            guard value.scalar != nil else {
                throw ValidationError("\(path):\(value.mark?.line ?? 0): \(name): expected a single value")
            }
        }
        do {
            return try YAMLDecoder().decode(CentralConfigFile.self, from: text)
        } catch {
            throw ValidationError("\(path): \(error)")
        }
    }
}
