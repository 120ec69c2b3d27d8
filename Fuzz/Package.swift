// swift-tools-version:6.0
//
// libFuzzer targets for the sensor's two doors to the outside world:
//
//   FuzzDecoder      one frame of any supported link type -> FrameDecoder
//   FuzzCaptureFile  a whole capture file -> the memory-mapped reader and
//                    libpcap's, every frame through the full pipeline
//
// Built with `make fuzz` (Fuzz/fuzz.sh): swift build -Xswiftc
// -sanitize=fuzzer,address, so that coverage guides libFuzzer and
// AddressSanitizer watches every access. Each binary's main hands control
// to libFuzzer through LLVMFuzzerRunDriver.
import PackageDescription

let package = Package(
    name: "TeitenFuzz",
    dependencies: [.package(name: "teiten", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(name: "FuzzDecoder", dependencies: ["FuzzDriver", .product(name: "FuzzHarness", package: "teiten")]),
        .executableTarget(name: "FuzzCaptureFile", dependencies: ["FuzzDriver", .product(name: "FuzzHarness", package: "teiten")]),
    ],
    swiftLanguageModes: [.v6]
)
