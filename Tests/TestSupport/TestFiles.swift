import Foundation

/// A scratch directory, removed when the value is released.
public final class ScratchDirectory {
    public let path: String
    public init() {
        path = NSTemporaryDirectory() + "teiten-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    public func file(_ name: String) -> String { path + "/" + name }
}

/// The public capture corpus: $TEITEN_CORPUS, or ../shared/corpus beside
/// the project. Nil when absent.
public func corpusDirectory() -> String? {
    if let path = ProcessInfo.processInfo.environment["TEITEN_CORPUS"] { return path }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let corpus = root.deletingLastPathComponent().appendingPathComponent("shared/corpus").path
    return FileManager.default.fileExists(atPath: corpus) ? corpus : nil
}

/// True under CI, where a missing corpus is a failure rather than a skip.
public var runningInCI: Bool { ProcessInfo.processInfo.environment["CI"] != nil }

/// Every file under the corpus except its text documentation.
public func corpusCaptureFiles(_ directory: String) -> [String] {
    let skippedExtensions: Set<String> = ["md", "txt", "tsv", "log"]
    let skippedNames: Set<String> = ["LICENSE", "COPYING", "TESTLIST", "Traces-README"]
    var files: [String] = []
    let enumerator = FileManager.default.enumerator(atPath: directory)
    while let relative = enumerator?.nextObject() as? String {
        let path = directory + "/" + relative
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
        let name = (relative as NSString).lastPathComponent
        if skippedExtensions.contains((name as NSString).pathExtension) || skippedNames.contains(name) || name.hasPrefix("README") { continue }
        files.append(path)
    }
    return files.sorted()
}

/// Country ranges in tor-geoipdb format (`start,end,CC`, IPv4 as integers)
/// for tests: a few documentation and benchmark blocks with made-up
/// countries, so tests can check `src_country` without the real database.
public let testCountryRanges = """
    # test ranges: 192.0.2.0/24 JP, 198.51.100.0/24 FR, 203.0.113.0/24 BR, 127.0.0.0/8 ZZ is not listed
    3221225984,3221226239,JP
    3325256704,3325256959,FR
    3405803776,3405804031,BR
    """ + "\n"
