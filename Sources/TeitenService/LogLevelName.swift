public import Logging

/// The names `--log-level` and `service.log_level` accept: swift-log's levels.
public enum LogLevelName {
    public static let all = Logger.Level.allCases.map(\.rawValue)

    public static func parse(_ text: String) -> Logger.Level? { Logger.Level(rawValue: text.lowercased()) }
}
