import Foundation
import Testing

@Suite("lichtweg key generate / profile sign")
struct SignCommandTests {
    @Test("a key pair, a signed profile that names its route and version, and refusals with exit 2")
    func signing() throws {
        let dir = try TempDir()
        let priv = dir.url.appendingPathComponent("release.key").path
        let pub = dir.url.appendingPathComponent("release.pub").path
        let generated = try CLI.run(["key", "generate", "--private", priv, "--public", pub])
        #expect(generated.status == 0, "\(generated.output)")
        let attributes = try FileManager.default.attributesOfItem(atPath: priv)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try String(contentsOfFile: pub, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines).count == 44)

        // A second generate must not overwrite the signing key.
        let again = try CLI.run(["key", "generate", "--private", priv, "--public", pub])
        #expect(again.status == 2 && again.stderr.contains("exists"))

        let profile = try dir.write("p.yaml", IntegrationSample.yaml)
        let signed = try CLI.run(["profile", "sign", profile.path, "--key", priv])
        #expect(signed.status == 0, "\(signed.output)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(signed.stdout.utf8)) as? [String: Any])
        #expect(json["schema"] as? String == "lichtweg.signed-profile/1")
        #expect(json["route"] as? String == "it-road" && json["version"] as? Int == 1)
        #expect(json["document"] as? String == IntegrationSample.yaml)
        #expect((json["signature"] as? String).flatMap { Data(base64Encoded: $0) }?.count == 64)

        // An invalid profile is not signed: the loader's errors, exit 2.
        let broken = try dir.write("broken.yaml", IntegrationSample.yaml.replacingOccurrences(of: "version: 1", with: "version: 0"))
        let refused = try CLI.run(["profile", "sign", broken.path, "--key", priv])
        #expect(refused.status == 2 && refused.stderr.contains("broken.yaml:2: version:"), "\(refused.output)")
        #expect(refused.stdout.isEmpty)

        // A key file that is not a key.
        let notKey = try dir.write("not.key", "hello\n")
        let badKey = try CLI.run(["profile", "sign", profile.path, "--key", notKey.path])
        #expect(badKey.status == 2 && badKey.stderr.contains("not an Ed25519 private key"))
    }
}
