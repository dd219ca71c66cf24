import Foundation

// Thin names for the few libm functions the simulator needs, so that the random-number code reads
// the same on every platform.
@inline(__always) func Foundation_log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func Foundation_exp(_ x: Double) -> Double { Foundation.exp(x) }
@inline(__always) func Foundation_sqrt(_ x: Double) -> Double { x.squareRoot() }
@inline(__always) func Foundation_cos(_ x: Double) -> Double { Foundation.cos(x) }
@inline(__always) func Foundation_sin(_ x: Double) -> Double { Foundation.sin(x) }
