import Foundation
import LightCore
import PoleIO
import Testing

/// A stand-in for `/sys/class/pwm` with `pwmchip0/pwm0` already exported.
private func standIn(initial: String = "0\n") throws -> TempDirectory {
    let dir = try TempDirectory()
    try dir.write("pwmchip0/export", "")
    for name in ["enable", "period", "duty_cycle", "polarity"] {
        try dir.write("pwmchip0/pwm0/\(name)", initial)
    }
    return dir
}

@Suite("SysfsPWM")
struct SysfsPWMTests {
    @Test("init sets the period from the frequency, the polarity, a duty of 0, and enables", arguments: [
        (SysfsPWM.Polarity.normal, "normal"), (.inversed, "inversed"),
    ])
    func configures(polarity: SysfsPWM.Polarity, text: String) throws {
        let dir = try standIn()
        let pwm = try SysfsPWM(root: dir.path, chip: 0, channel: 0, frequencyHz: 1000, polarity: polarity)
        #expect(pwm.periodNanoseconds == 1_000_000)
        #expect(pwm.channelPath == dir.file("pwmchip0/pwm0"))
        #expect(try dir.read("pwmchip0/pwm0/period") == "1000000\n")
        #expect(try dir.read("pwmchip0/pwm0/duty_cycle") == "0\n")
        #expect(try dir.read("pwmchip0/pwm0/polarity") == "\(text)\n")
        #expect(try dir.read("pwmchip0/pwm0/enable") == "1\n")
    }

    @Test("the period is 1e9 / frequency, rounded", arguments: [(300.0, 3_333_333), (50, 20_000_000), (100_000, 10_000), (1500, 666_667)])
    func period(frequency: Double, expected: Int) throws {
        let dir = try standIn()
        let pwm = try SysfsPWM(root: dir.path, chip: 0, channel: 0, frequencyHz: frequency, polarity: .normal)
        #expect(pwm.periodNanoseconds == expected)
        #expect(try dir.read("pwmchip0/pwm0/period") == "\(expected)\n")
    }

    @Test("init overwrites stale long values completely")
    func staleValuesAtInit() throws {
        let dir = try standIn(initial: "123456789012\n")
        _ = try SysfsPWM(root: dir.path, chip: 0, channel: 0, frequencyHz: 1000, polarity: .normal)
        #expect(try dir.read("pwmchip0/pwm0/duty_cycle") == "0\n")
        #expect(try dir.read("pwmchip0/pwm0/enable") == "1\n")
        #expect(try dir.read("pwmchip0/pwm0/period") == "1000000\n")
    }

    @Test("the duty cycle is the level's share of the period")
    func duty() throws {
        let dir = try standIn()
        let pwm = try SysfsPWM(root: dir.path, chip: 0, channel: 0, frequencyHz: 1000, polarity: .normal)
        try pwm.write(50)
        #expect(try dir.read("pwmchip0/pwm0/duty_cycle") == "500000\n")
        try pwm.write(100)
        #expect(try dir.read("pwmchip0/pwm0/duty_cycle") == "1000000\n")
        try pwm.write(DimLevel(percent: 12.5))
        #expect(try dir.read("pwmchip0/pwm0/duty_cycle") == "125000\n")
        try pwm.write(.off)
        #expect(try dir.read("pwmchip0/pwm0/duty_cycle") == "0\n")
    }

    @Test("a shorter value leaves no stale tail of a longer one")
    func noStaleTail() throws {
        let dir = try standIn()
        let pwm = try SysfsPWM(root: dir.path, chip: 0, channel: 0, frequencyHz: 1000, polarity: .normal)
        try pwm.write(100)  // "1000000\n"
        try pwm.write(5)    // "50000\n"
        #expect(try dir.read("pwmchip0/pwm0/duty_cycle") == "50000\n")
        try pwm.write(DimLevel(percent: 0.0001))  // 1 ns
        #expect(try dir.read("pwmchip0/pwm0/duty_cycle") == "1\n")
    }

    @Test("an unexported channel is exported, and one that never appears is an error")
    func export() throws {
        let dir = try TempDirectory()
        try dir.write("pwmchip0/export", "")
        #expect(throws: OutputError.self) {
            try SysfsPWM(root: dir.path, chip: 0, channel: 1, frequencyHz: 1000, polarity: .normal)
        }
        #expect(try dir.read("pwmchip0/export") == "1\n")
    }

    @Test("no such chip: an error")
    func noChip() throws {
        let dir = try TempDirectory()
        #expect(throws: OutputError.self) {
            try SysfsPWM(root: dir.path, chip: 3, channel: 0, frequencyHz: 1000, polarity: .normal)
        }
    }

    @Test("in the simulated pole's directory")
    func simulatedPole() throws {
        let dir = try TempDirectory()
        let sim = try SimulatedPole(directory: dir.path, sensors: ["s1"], lampFeedback: true)
        defer { sim.close() }
        let pwm = try SysfsPWM(root: sim.pwmRoot, chip: 0, channel: 0, frequencyHz: 2000, polarity: .inversed)
        try pwm.write(25)
        let channel = "\(sim.pwmRoot)/pwmchip0/pwm0"
        #expect(try String(contentsOfFile: "\(channel)/period", encoding: .utf8) == "500000\n")
        #expect(try String(contentsOfFile: "\(channel)/duty_cycle", encoding: .utf8) == "125000\n")
        #expect(try String(contentsOfFile: "\(channel)/polarity", encoding: .utf8) == "inversed\n")
        #expect(try String(contentsOfFile: "\(channel)/enable", encoding: .utf8) == "1\n")
    }
}
