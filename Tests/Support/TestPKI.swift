import Foundation
import Testing

/// A throw-away certificate authority and certificates signed by it (EC P-256, valid two days,
/// for 127.0.0.1 and localhost), made with the openssl command: for brokers and clients that
/// speak TLS in tests.
public struct TestPKI: Sendable {
    public let scratch: Scratch

    /// The CA, and one key and certificate per name (the name is the certificate's CN).
    public static func make(_ names: [String]) async throws -> TestPKI {
        let pki = TestPKI(scratch: try Scratch("pki"))
        try await pki.openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=lichtweg-test-ca")
        try pki.scratch.write("san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        for name in names {
            try await pki.openssl("req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout \(name).key -out \(name).csr -subj /CN=\(name)")
            try await pki.openssl("x509 -req -in \(name).csr -CA ca.crt -CAkey ca.key -CAcreateserial -out \(name).crt -days 2 -extfile san.ext")
        }
        return pki
    }

    public var ca: String { "\(scratch.path)/ca.crt" }
    public func certificate(_ name: String) -> String { "\(scratch.path)/\(name).crt" }
    public func key(_ name: String) -> String { "\(scratch.path)/\(name).key" }

    /// mosquitto.conf lines for a TLS listener with this CA's server certificate `server`.
    public func brokerConfig(server: String = "server", requireCertificate: Bool = true) -> String {
        """
        cafile \(ca)
        certfile \(certificate(server))
        keyfile \(key(server))
        require_certificate \(requireCertificate)
        """
    }

    /// Waits by sleeping the task: a blocked thread of the cooperative pool would starve other tests.
    private func openssl(_ args: String) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "cd '\(scratch.path)' && openssl \(args) 2>/dev/null"]
        try p.run()
        while p.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        try #require(p.terminationStatus == 0, "openssl \(args)")
    }
}
