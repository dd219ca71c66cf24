// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Lichtweg",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "LightCore", targets: ["LightCore"]),
        .library(name: "ProfileFormat", targets: ["ProfileFormat"]),
        .library(name: "RouteSim", targets: ["RouteSim"]),
        .library(name: "PoleProtocol", targets: ["PoleProtocol"]),
        .executable(name: "lichtweg", targets: ["lichtweg"]),
        .executable(name: "lichtweg-pole", targets: ["lichtweg-pole"]),
        .executable(name: "lichtweg-central", targets: ["lichtweg-central"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // MARK: - Pure core: no I/O, no C imports, time is always a parameter.
        .target(name: "LightCore", dependencies: [.product(name: "RealModule", package: "swift-numerics")]),

        // MARK: - Profile documents (YAML/JSON text) <-> LightCore model, with line-accurate errors.
        .target(
            name: "ProfileFormat",
            dependencies: ["LightCore", "CYAML"]
        ),

        // MARK: - Route simulator: the real pole logic in virtual time against a modelled world.
        .target(
            name: "RouteSim",
            dependencies: ["LightCore", "ProfileFormat"]
        ),

        // MARK: - C libraries, found with pkg-config (no header paths here).
        // libyaml reads YAML documents without Foundation, which the pole cannot afford (Yams needs it).
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),

        // MARK: - What poles and the control plane say to each other: topics, payloads, signed profiles.
        .target(
            name: "PoleProtocol",
            dependencies: ["LightCore", "ProfileFormat", .product(name: "Crypto", package: "swift-crypto")]
        ),

        // MARK: - What the pole's parts share of the operating system: their own threads.
        .target(name: "PoleSystem"),

        // MARK: - The pole's hardware: libgpiod inputs/outputs, sysfs PWM, and the named simulation.
        .target(
            name: "PoleIO",
            dependencies: ["CGPIOD", "LightCore", "PoleSystem", .product(name: "Logging", package: "swift-log")]
        ),

        // MARK: - The pole's network link: MQTT over libmosquitto.
        .target(
            name: "PoleLink",
            dependencies: ["CMosquitto", "PoleSystem", .product(name: "Logging", package: "swift-log")]
        ),

        // MARK: - The pole daemon: the state machine driven by hardware, clock and network.
        .target(
            name: "PoleDaemon",
            dependencies: [
                "LightCore", "ProfileFormat", "PoleProtocol", "PoleIO", "PoleLink", "PoleSystem",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "lichtweg-pole",
            dependencies: [
                "PoleDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: - The control plane: pure core (rollouts, records), storage (SQLite, PostgreSQL).
        .target(name: "CentralCore", dependencies: ["LightCore"]),
        .target(
            name: "CentralStore",
            dependencies: [
                "CentralCore", "LightCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .target(
            name: "CentralService",
            dependencies: [
                "CentralCore", "CentralStore", "LightCore", "ProfileFormat", "PoleProtocol", "RouteSim",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                "PoleLink",
            ],
            resources: [.copy("Web")]
        ),
        .executableTarget(
            name: "lichtweg-central",
            dependencies: [
                "CentralService", "CentralStore", "CentralCore", "PoleProtocol", "PoleLink",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: - Engineer's CLI
        .executableTarget(
            name: "lichtweg",
            dependencies: [
                "LightCore", "ProfileFormat", "RouteSim", "PoleProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Tests

        // What the integration tests share: a real mosquitto, real PostgreSQL, pole processes.
        .target(
            name: "LichtwegTestSupport",
            dependencies: ["PoleLink", "PoleProtocol", "LightCore", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log")],
            path: "Tests/Support"
        ),
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
            name: "PoleProtocolTests",
            dependencies: ["PoleProtocol", "LightCore", "ProfileFormat", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "PoleDaemonTests",
            dependencies: ["PoleDaemon", "PoleIO", "PoleLink", "PoleProtocol", "LightCore",
                           .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "PoleIntegrationTests",
            dependencies: ["LichtwegTestSupport", "PoleLink", "PoleProtocol", "LightCore", "ProfileFormat",
                           .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "CentralCoreTests",
            dependencies: ["CentralCore", "LightCore", "ProfileFormat", .product(name: "PropertyBased", package: "swift-property-based")]
        ),
        .testTarget(
            name: "CentralStoreTests",
            dependencies: ["LichtwegTestSupport", "CentralStore", "CentralCore", "LightCore"]
        ),
        .testTarget(
            name: "CentralServiceTests",
            dependencies: [
                "LichtwegTestSupport", "CentralService", "CentralStore", "CentralCore", "LightCore", "PoleProtocol", "PoleLink",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "LichtwegIntegrationTests",
            dependencies: ["LightCore", "ProfileFormat"]
        ),
    ]
)

// MARK: - Fuzzing (scripts/fuzz): libFuzzer entry points over the parsers and decoders that read
// input from outside — profiles, pole.yaml, every MQTT payload. Only declared when asked for, since
// the target has no `main` of its own (libFuzzer's is linked by `swift build --sanitize fuzzer`).
if Context.environment["LICHTWEG_FUZZ"] != nil {
    package.targets.append(.executableTarget(
        name: "lichtweg-fuzz",
        dependencies: ["LightCore", "ProfileFormat", "PoleProtocol", "PoleDaemon",
                       .product(name: "Crypto", package: "swift-crypto")],
        path: "Tests/Fuzz",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    ))
}
