import Foundation
import LightCore
import ProfileFormat

/// Reading profile files from disk for the commands.
enum ProfileFiles {
    /// The YAML files named by `paths`; a directory stands for the `*.yaml` files in it.
    static func expand(_ paths: [String]) -> [String] {
        var result: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                result += names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                result.append(path)
            }
        }
        return result
    }

    /// Loads and checks one file.
    static func load(_ path: String) -> Result<Profile, ProfileDiagnostics> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(ProfileDiagnostics([
                ProfileDiagnostic(file: path, line: nil, path: "", message: "cannot read the file (does it exist?)"),
            ]))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(ProfileDiagnostics([
                ProfileDiagnostic(file: path, line: nil, path: "", message: "the file is not UTF-8 text"),
            ]))
        }
        return ProfileLoader.load(text, file: path)
    }
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
