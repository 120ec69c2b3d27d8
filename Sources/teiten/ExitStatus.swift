import ArgumentParser

/// Exit codes, from sysexits(3) so that scripts and systemd can tell causes
/// apart. Documented in docs/operations.md.
enum ExitStatus {
    /// The capture file is missing, unreadable or not a capture.
    static let cannotOpenInput = ExitCode(66)
    /// The interface does not exist or cannot be captured on.
    static let unavailable = ExitCode(69)
    /// `--strict` and the capture file was damaged part-way.
    static let damagedInput = ExitCode(65)
    /// Reading failed in a way that is not the input's fault.
    static let softwareError = ExitCode(70)
    /// No permission to capture (needs root or CAP_NET_RAW).
    static let noPermission = ExitCode(77)
    /// The alert file cannot be created or opened for writing.
    static let cannotCreateOutput = ExitCode(73)
    /// A setting, filter or country database was refused.
    static let configuration = ExitCode(78)
}
