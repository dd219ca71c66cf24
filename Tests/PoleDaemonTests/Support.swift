import Foundation
import Testing

/// A temporary directory, removed when the value goes away.
final class TempDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("lichtweg-pd-\(UUID().uuidString.prefix(8))", isDirectory: true).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { "\(path)/\(name)" }

    func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func read(_ name: String) throws -> String {
        try String(contentsOfFile: file(name), encoding: .utf8)
    }

    func write(_ name: String, _ text: String) throws {
        let url = URL(fileURLWithPath: file(name))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: false, encoding: .utf8)
    }
}

/// Waits (real time) until `condition` holds; false after `timeout` seconds. The timeout only
/// keeps a broken test from hanging: tests assert on values and order, never on timing.
func eventually(timeout: Double = 30, _ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(timeout)
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: .milliseconds(5))
    }
    return true
}

/// The 1-based number of the first line of `text` containing `needle`.
func lineNumber(of needle: String, in text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    let index = try #require(lines.firstIndex { $0.contains(needle) }, "'\(needle)' is not in the text",
                             sourceLocation: sourceLocation)
    return index + 1
}
