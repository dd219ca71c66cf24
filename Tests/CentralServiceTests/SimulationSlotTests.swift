@testable import CentralService
import Foundation
import Synchronization
import Testing

@Suite("SimulationSlot")
struct SimulationSlotTests {
    /// How many simulations run at once, and the most seen.
    final class Occupancy: Sendable {
        private let state = Mutex((now: 0, most: 0))
        var most: Int { state.withLock { $0.most } }
        func enter() { state.withLock { $0.now += 1; $0.most = max($0.most, $0.now) } }
        func leave() { state.withLock { $0.now -= 1 } }
    }

    @Test("simulations run one at a time, and each caller gets its own result")
    func oneAtATime() async throws {
        let slot = SimulationSlot()
        let occupancy = Occupancy()
        let results = await withTaskGroup(of: Int.self) { group in
            for i in 0..<6 {
                group.addTask {
                    await slot.run {
                        occupancy.enter()
                        usleep(20_000)  // blocking work, as RouteSimulator.run is
                        occupancy.leave()
                        return i * i
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.sorted() == [0, 1, 4, 9, 16, 25])
        #expect(occupancy.most == 1)
    }
}
