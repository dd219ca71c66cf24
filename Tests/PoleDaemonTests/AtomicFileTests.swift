import Foundation
import PoleDaemon
import Testing

@Suite("AtomicFile")
struct AtomicFileTests {
    @Test("write then read gives the bytes back")
    func roundTrip() throws {
        let dir = try TempDirectory()
        let bytes = Array("version: 3\nstate: ok\n".utf8) + [0, 255, 10]
        try AtomicFile.write(bytes, to: dir.file("state.json"))
        #expect(AtomicFile.read(dir.file("state.json")) == bytes)
    }

    @Test("empty content")
    func empty() throws {
        let dir = try TempDirectory()
        try AtomicFile.write([], to: dir.file("empty"))
        #expect(AtomicFile.read(dir.file("empty")) == [])
    }

    @Test("reading a file that is not there gives nil")
    func readMissing() throws {
        let dir = try TempDirectory()
        #expect(AtomicFile.read(dir.file("nothing")) == nil)
    }

    @Test("overwriting replaces the whole content (no tail of a longer old content)")
    func overwrite() throws {
        let dir = try TempDirectory()
        let path = dir.file("profile.yaml")
        try AtomicFile.write(Array(String(repeating: "long old content ", count: 100).utf8), to: path)
        try AtomicFile.write(Array("short".utf8), to: path)
        #expect(AtomicFile.read(path) == Array("short".utf8))
    }

    @Test("leaves no temporary file behind")
    func noTempFiles() throws {
        let dir = try TempDirectory()
        try AtomicFile.write(Array("one".utf8), to: dir.file("a"))
        try AtomicFile.write(Array("two".utf8), to: dir.file("a"))
        try AtomicFile.write(Array("three".utf8), to: dir.file("b"))
        #expect(try dir.names() == ["a", "b"])
    }

    @Test("a write into a directory that does not exist throws, and leaves nothing")
    func writeFails() throws {
        let dir = try TempDirectory()
        let error = #expect(throws: AtomicFile.WriteError.self) {
            try AtomicFile.write(Array("x".utf8), to: dir.file("missing/state.json"))
        }
        #expect(error?.op == "open")
        #expect(error?.errno == ENOENT)
        #expect(try dir.names() == [])
    }

    @Test("removeLeftovers removes *.tmp-* and nothing else")
    func leftovers() throws {
        let dir = try TempDirectory()
        try dir.write("profile.json", "kept")
        try dir.write("profile.json.tmp-4242", "cut short")
        try dir.write("state.json.tmp-1", "cut short")
        try dir.write("notes.tmp", "kept: no dash")
        AtomicFile.removeLeftovers(in: dir.path)
        #expect(try dir.names() == ["notes.tmp", "profile.json"])
        #expect(try dir.read("profile.json") == "kept")
    }

    @Test("removeLeftovers in a missing directory does nothing")
    func leftoversMissingDirectory() throws {
        let dir = try TempDirectory()
        AtomicFile.removeLeftovers(in: dir.file("nope"))
        #expect(try dir.names() == [])
    }

    @Test("remove deletes a file, and a missing file is no error")
    func remove() throws {
        let dir = try TempDirectory()
        try AtomicFile.write(Array("x".utf8), to: dir.file("f"))
        try AtomicFile.remove(dir.file("f"))
        #expect(AtomicFile.read(dir.file("f")) == nil)
        #expect(try dir.names() == [])
        try AtomicFile.remove(dir.file("f"))
        try AtomicFile.remove(dir.file("never-was"))
    }
}
