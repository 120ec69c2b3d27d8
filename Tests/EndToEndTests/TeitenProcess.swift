import Foundation
import TestSupport

/// Runs the built `teiten` binary, as an operator or a script would.
struct TeitenProcess {
    struct Result {
        let status: Int32
        let standardOutput: String
        let standardError: String
        /// True when the process died of a signal (a crash), not an exit.
        let crashed: Bool
    }

    /// The binary beside the test bundle (swift build puts products and
    /// tests in one directory), or $TEITEN_BINARY.
    static let executable: String = {
        if let path = ProcessInfo.processInfo.environment["TEITEN_BINARY"] { return path }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if directory.lastPathComponent == "MacOS" || directory.pathExtension == "xctest" { directory.deleteLastPathComponent() }
        return directory.appendingPathComponent("teiten").path
    }()

    /// A small country file in tor-geoipdb format (TestSupport.testCountryRanges),
    /// written once. `teiten run` is given it unless a test names its own
    /// `--geo-db`: the real tor files take seconds to load in a debug build.
    static let countryFile: String = {
        let path = NSTemporaryDirectory() + "teiten-test-geoip-\(getpid())"
        try? testCountryRanges.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }()

    static func arguments(_ arguments: [String]) -> [String] {
        guard arguments.first == "run", !arguments.contains("--geo-db") else { return arguments }
        return arguments + ["--geo-db", countryFile]
    }

    /// Runs to completion, killing it after `timeout` seconds.
    static func run(_ arguments: [String], timeout: TimeInterval = 120) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Self.arguments(arguments)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain both pipes while it runs so a chatty process never blocks.
        let group = DispatchGroup()
        nonisolated(unsafe) var outData = Data(), errData = Data()
        DispatchQueue.global().async(group: group) { outData = out.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { errData = err.fileHandleForReading.readDataToEndOfFile() }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      standardOutput: String(decoding: outData, as: UTF8.self),
                      standardError: String(decoding: errData, as: UTF8.self),
                      crashed: process.terminationReason == .uncaughtSignal)
    }
}

/// Reads "name 1,234" counts out of the run summary.
func summaryCount(_ summary: String, after label: String) -> Int? {
    guard let range = summary.range(of: label + " ") else { return nil }
    let digits = summary[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber || $0 == "," }.filter { $0 != "," }
    return Int(digits)
}

