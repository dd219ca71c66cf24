import Foundation
import Testing

/// Runs the built `lichtweg` executable as a subprocess.
enum CLI {
    /// The package root: three levels above this file (Tests/LichtwegIntegrationTests/CLI.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Where the binary may be: `LICHTWEG_BIN`, else next to the test bundle (the same build
    /// directory), else the default `.build/debug`.
    static var candidates: [URL] {
        var result: [URL] = []
        if let env = ProcessInfo.processInfo.environment["LICHTWEG_BIN"], !env.isEmpty {
            return [URL(fileURLWithPath: env)]
        }
        // Linux: the test bundle is an executable `…/debug/LichtwegPackageTests.xctest`, and
        // Bundle.main is the directory it is in. macOS: `…/debug/LichtwegPackageTests.xctest` is a
        // bundle directory and the runner is `xctest` elsewhere.
        let bundle = Bundle.main.bundleURL
        result.append(bundle.appendingPathComponent("lichtweg"))
        result.append(bundle.deletingLastPathComponent().appendingPathComponent("lichtweg"))
        if let argv0 = ProcessInfo.processInfo.arguments.first {
            let dir = URL(fileURLWithPath: argv0).deletingLastPathComponent()
            result.append(dir.appendingPathComponent("lichtweg"))
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            result.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("lichtweg"))
        }
        result.append(packageRoot.appendingPathComponent(".build/debug/lichtweg"))
        return result
    }

    static func binary(sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
        return try #require(found, """
            the lichtweg executable was not found (looked at: \(candidates.map(\.path).joined(separator: ", "))). \
            Build it with `swift build --build-tests` or set LICHTWEG_BIN.
            """, sourceLocation: sourceLocation)
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var output: String { stdout + stderr }
        var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// Runs `lichtweg arguments…` to completion. Output goes through files, so a large output can
    /// never block the child on a full pipe.
    static func run(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let binary = try binary(sourceLocation: sourceLocation)
        let dir = try TempDir()
        let out = dir.url.appendingPathComponent("stdout"), err = dir.url.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return Result(status: process.terminationStatus,
                      stdout: try String(contentsOf: out, encoding: .utf8),
                      stderr: try String(contentsOf: err, encoding: .utf8))
    }

    /// `preview --format json`, parsed.
    static func previewJSON(_ file: URL, date: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let r = try run(["profile", "preview", file.path, "--date", date, "--format", "json"], sourceLocation: sourceLocation)
        try #require(r.status == 0, "preview failed (\(r.status)): \(r.output)", sourceLocation: sourceLocation)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(r.stdout)", sourceLocation: sourceLocation)
    }
}

/// A temporary directory, removed when the value goes away.
final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("lichtweg-it-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ name: String, _ text: String) throws -> URL {
        let file = url.appendingPathComponent(name)
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// A valid profile at Leipzig. Its weeknight program has steps at switch-on, "22:00" and an
/// unquoted 05:00; its calendar uses weeknight on every night but Christmas Eve.
enum IntegrationSample {
    static let routeName = "Integrationsweg Leipzig–Taucha"

    static let yaml = """
        format: lichtweg-profile/1
        version: 1
        route:
          id: it-road
          name: \(routeName)
          timezone: Europe/Berlin
          location: {lat: 51.3397, lon: 12.3731}
          luminaires:
            led40: {power: 40, standby: 0.5}
          poles:
            - {id: A1, chainage: 0, lat: 51.3397, lon: 12.3731, luminaire: led40,
               sensors: [{id: s1, kind: radar, facing: increasing, range: 30}]}
            - {id: A2, chainage: 40, lat: 51.3400, lon: 12.3735, luminaire: led40}
            - {id: A3, chainage: 80, lat: 51.3403, lon: 12.3739, luminaire: led40}
        lightingClasses: {P4: 30, P6: 10}
        calendar:
          default: weeknight
          rules:
            - name: Christmas Eve
              dates: [2026-12-24]
              program: festive
        programs:
          weeknight:
            switchOn: {event: sunset, offsetMinutes: 10}
            switchOff: {event: sunrise, offsetMinutes: -10}
            class: P4
            steps:
              - {at: switchOn, level: 40}
              - {at: "22:00", level: 10, class: P6}
              - {at: 05:00, level: 30}
            presence: {level: 100, holdSeconds: 60}
          festive:
            switchOn: {event: civilDusk}
            switchOff: {event: civilDawn}
            class: P4
            steps:
              - {at: switchOn, level: 80}

        """
}
