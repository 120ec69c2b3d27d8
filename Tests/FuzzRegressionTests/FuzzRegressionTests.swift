import Foundation
import FuzzHarness
import Testing
import TestSupport

/// Every input a fuzzer ever broke the sensor with, replayed through the
/// same harness (Tests/Fixtures/fuzz-regressions/decoder/ and capture/;
/// the file names say what each one broke). A debug build checks every
/// bound, so a regression traps here as it did under the fuzzer.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fuzz-regressions")

    static func inputs(_ kind: String) -> [URL] {
        let folder = directory.appendingPathComponent(kind)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { folder.appendingPathComponent($0) }
    }

    @Test func captureFileRegressions() throws {
        let inputs = Self.inputs("capture")
        #expect(!inputs.isEmpty, "the kept findings are missing")
        for input in inputs { FuzzHarness.replayCaptureFile(path: input.path) }
    }

    @Test func decoderRegressions() throws {
        for input in Self.inputs("decoder") {
            let bytes = try Data(contentsOf: input)
            bytes.withUnsafeBytes { FuzzHarness.decodeFrame($0) }
        }
    }
}
