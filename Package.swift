// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Lichtweg",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "LightCore", targets: ["LightCore"]),
        .library(name: "ProfileFormat", targets: ["ProfileFormat"]),
        .library(name: "RouteSim", targets: ["RouteSim"]),
        .executable(name: "lichtweg", targets: ["lichtweg"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    ],
    targets: [
        // MARK: - Pure core: no I/O, no C imports, time is always a parameter.
        .target(name: "LightCore"),

        // MARK: - Profile documents (YAML/JSON text) <-> LightCore model, with line-accurate errors.
        .target(
            name: "ProfileFormat",
            dependencies: ["LightCore", .product(name: "Yams", package: "Yams")]
        ),

        // MARK: - Route simulator: the real pole logic in virtual time against a modelled world.
        .target(
            name: "RouteSim",
            dependencies: ["LightCore", "ProfileFormat", .product(name: "Yams", package: "Yams")]
        ),

        // MARK: - Engineer's CLI
        .executableTarget(
            name: "lichtweg",
            dependencies: [
                "LightCore", "ProfileFormat", "RouteSim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests
        .testTarget(
            name: "LightCoreTests",
            dependencies: ["LightCore", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "ProfileFormatTests",
            dependencies: ["ProfileFormat", "LightCore"]
        ),
        .testTarget(
            name: "RouteSimTests",
            dependencies: ["RouteSim", "LightCore", "ProfileFormat"]
        ),
        .testTarget(
            name: "LichtwegIntegrationTests",
            dependencies: ["LightCore", "ProfileFormat"]
        ),
    ]
)
