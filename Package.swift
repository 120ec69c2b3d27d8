// swift-tools-version:6.0
//
// Teiten: a network observation sensor. The module graph, leaves first:
//
//   CPcap            libpcap, as a system library (module map + shim header)
//   CMaxMindDB       libmaxminddb, likewise (MaxMind-format country databases)
//   CPrefetch        a software-prefetch hint (one inline C function)
//   CMalloc          glibc's malloc.h (mallopt), for the allocator policy
//   PacketDecoding   bytes -> PacketRecord; imports no libpcap, so it can be
//                    unit-tested, truncation-tested at every length and fuzzed
//   PcapCapture      the only code that calls libpcap
//   TeitenCore       the ordered pipeline on packet time: classifier, detectors, alert ledger
//   TeitenOutput     writers off the capture thread: the alert stream
//   TrafficSynthesis deterministic darknet-like pcap files (samples, tests, benchmarks)
//   FuzzHarness      what the fuzzers (Fuzz/) and their regression tests do with an input
//   TeitenService    the daemon's surroundings: config file, systemd notify,
//                    journald logging, Prometheus metrics, privilege drop
//   teiten           the command line and the daemon shell
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "teiten",
    products: [
        .executable(name: "teiten", targets: ["teiten"]),
        // What the fuzzers in Fuzz/ (a package of its own, since its binaries
        // are built with -sanitize=fuzzer) do with an input.
        .library(name: "FuzzHarness", targets: ["FuzzHarness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The config file (TOML, parsed by toml++ underneath).
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // Logging to standard error, in journald's format under systemd.
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // The metrics endpoint's registry and exposition format.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        .systemLibrary(
            name: "CMaxMindDB",
            pkgConfig: "libmaxminddb",
            providers: [.apt(["libmaxminddb-dev"])]
        ),
        // glibc's mallopt (malloc.h), for the allocator policy of `teiten run`.
        .systemLibrary(name: "CMalloc"),
        .target(name: "PacketDecoding", swiftSettings: strict),
        .target(name: "PcapCapture", dependencies: ["CPcap", "PacketDecoding"], swiftSettings: strict),
        .target(name: "CPrefetch"),
        .target(name: "TeitenCore", dependencies: ["PacketDecoding", "CMaxMindDB", "CPrefetch"], swiftSettings: strict),
        .target(name: "TeitenOutput", dependencies: ["TeitenCore", "PacketDecoding"], swiftSettings: strict),
        .target(name: "TrafficSynthesis", swiftSettings: strict),
        .target(
            name: "TeitenService",
            dependencies: [
                "TeitenCore", "PcapCapture",
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "teiten",
            dependencies: [
                "PacketDecoding", "PcapCapture", "TeitenCore", "TeitenOutput", "TrafficSynthesis", "TeitenService", "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .target(name: "FuzzHarness", dependencies: ["PacketDecoding", "PcapCapture", "TeitenCore", "TeitenOutput"], swiftSettings: strict),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "PacketDecodingTests", dependencies: ["PacketDecoding", "TrafficSynthesis"]),
        .testTarget(name: "PcapCaptureTests", dependencies: ["PcapCapture", "PacketDecoding", "TrafficSynthesis", "TestSupport"]),
        .testTarget(name: "TeitenCoreTests", dependencies: ["TeitenCore", "TeitenOutput", "PacketDecoding", "TrafficSynthesis", "TestSupport"]),
        .testTarget(name: "TeitenServiceTests", dependencies: ["TeitenService", "TeitenCore", "TestSupport"]),
        .testTarget(name: "FuzzRegressionTests", dependencies: ["FuzzHarness", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TrafficSynthesis", "PacketDecoding", "PcapCapture", "TeitenCore", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
