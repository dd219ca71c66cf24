import ArgumentParser
import Crypto
import Foundation
import PoleProtocol

struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Profile signing keys (Ed25519).",
        subcommands: [GenerateKeyCommand.self]
    )
}

/// `lichtweg key generate`: a new signing key pair. The private key stays with whoever releases
/// profiles; the public key goes into every pole's configuration (`profileKey`).
struct GenerateKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a new Ed25519 key pair: the private key (mode 600) and the public key for the poles."
    )

    @Option(name: .customLong("private"), help: "Where to write the private key (must not exist).")
    var privatePath: String

    @Option(name: .customLong("public"), help: "Where to write the public key.")
    var publicPath: String

    func run() throws {
        guard !FileManager.default.fileExists(atPath: privatePath) else {
            printError("\(privatePath): exists; a signing key is not overwritten (remove it first if you mean it)")
            throw ExitCode(2)
        }
        let key = Curve25519.Signing.PrivateKey()
        do {
            try Data(SigningKeys.encode(key).utf8).write(to: URL(fileURLWithPath: privatePath), options: .atomic)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: privatePath)
            try Data(SigningKeys.encode(key.publicKey).utf8).write(to: URL(fileURLWithPath: publicPath), options: .atomic)
        } catch {
            printError("cannot write the key: \(error.localizedDescription)")
            throw ExitCode(2)
        }
        print("private key: \(privatePath)\npublic key:  \(publicPath) (id \(SigningKeys.keyID(key.publicKey)))")
    }
}

/// `lichtweg profile sign`: the signed profile message the control plane publishes to the route.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Check a profile and sign it for the poles (lichtweg.signed-profile/1 JSON)."
    )

    @Argument(help: "The profile file.")
    var profile: String

    @Option(name: .long, help: "The private signing key.")
    var key: String

    @Option(name: .shortAndLong, help: "Write the signed profile here instead of standard output.")
    var output: String?

    func run() throws {
        guard let keyData = FileManager.default.contents(atPath: key) else {
            printError("\(key): cannot read the key file")
            throw ExitCode(2)
        }
        let privateKey: Curve25519.Signing.PrivateKey
        do {
            privateKey = try SigningKeys.privateKey(fromFileText: String(decoding: keyData, as: UTF8.self))
        } catch {
            printError("\(key): \(error)")
            throw ExitCode(2)
        }
        guard let data = FileManager.default.contents(atPath: profile), let text = String(data: data, encoding: .utf8) else {
            printError("\(profile): cannot read the file (does it exist?)")
            throw ExitCode(2)
        }
        let signed: SignedProfile
        do {
            signed = try SignedProfile.sign(document: text, file: profile, with: privateKey)
        } catch {
            printError("\(error)")
            printError("\(profile): not signed")
            throw ExitCode(2)
        }
        let bytes = PayloadCodec.encode(signed)
        if let output {
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: output), options: .atomic)
            } catch {
                printError("cannot write \(output): \(error.localizedDescription)")
                throw ExitCode(2)
            }
            printError("\(profile): route \(signed.route), version \(signed.version), signed → \(output)")
        } else {
            FileHandle.standardOutput.write(Data(bytes + [10]))
        }
    }
}
