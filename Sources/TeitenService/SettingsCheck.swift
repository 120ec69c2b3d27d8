internal import PcapCapture
public import TeitenCore

/// What a config can get wrong beyond a key's own type and range: settings
/// that need each other, a filter that does not compile, a user or a
/// country file that does not exist. `check-config` and `run` share it, so
/// a config that passes the one starts the other.
public enum SettingsCheck {
    public struct Problem: Sendable {
        /// The key at fault, e.g. "capture.filter".
        public let key: String
        public let message: String

        /// `FILE:LINE: key: message` when the key is in the file, else without the line.
        public func description(file: String?) -> String {
            guard let file else { return "\(key): \(message)" }
            return ConfigError(file: file, line: ConfigFile.line(of: key, inFile: file), message: "\(key): \(message)").description
        }
    }

    /// The first problem; nil when none.
    public static func problem(_ settings: SensorSettings, checkingGeoFiles: Bool) -> Problem? {
        let output = settings.output
        if !output.stateDirectory.isEmpty && output.countsDirectory.isEmpty {
            return Problem(key: "output.state_dir", message: "checkpoints are of hourly counts: set output.counts_dir too")
        }
        if !settings.capture.filter.isEmpty,
           let problem = PcapHandle.filterProblem(settings.capture.filter, snapshotLength: Int32(settings.capture.snaplen)) {
            return Problem(key: "capture.filter", message: problem)
        }
        if !settings.service.user.isEmpty && !PrivilegeDrop.userExists(settings.service.user) {
            return Problem(key: "service.user", message: "no user '\(settings.service.user)' on this system")
        }
        if checkingGeoFiles, let problem = countries(settings).problem { return problem }
        return nil
    }

    /// The country database the settings name, loaded; or why it cannot be.
    public static func countries(_ settings: SensorSettings) -> (database: CountryDatabase, problem: Problem?) {
        var database = CountryDatabase()
        let paths = settings.geoDatabases.isEmpty ? CountryDatabase.installedDefaultPaths : settings.geoDatabases
        do {
            try database.load(paths: paths)
        } catch {
            return (database, Problem(key: "geo.databases", message: "\(error)"))
        }
        return (database, nil)
    }
}
