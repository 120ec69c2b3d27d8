public import TeitenCore

/// Everything `teiten run` can be told, from built-in defaults, then the
/// config file, then command-line flags (each layer overrides the one
/// before). An empty string means "not set" for the optional text settings,
/// as TOML has no null.
///
/// Every field here has a config key in `ConfigSchema`; a field without one
/// would be a setting an operator cannot reach from the config file.
public struct SensorSettings: Sendable, Equatable {
    /// The name in alert lines and hour sidecars; "" means the host name.
    public var sensorID = ""

    public var capture = Capture()
    public struct Capture: Sendable, Equatable {
        /// Live interface; "" means none (the command line may give one, or --read).
        public var interface = ""
        /// BPF filter, tcpdump syntax; "" means none.
        public var filter = ""
        public var snaplen = 512
        public var bufferSizeMiB = 32
        public var promiscuous = true
        public var immediate = false
        /// Count the interface's own addresses as local networks.
        public var interfaceAddressesLocal = true
    }

    public var networks = Networks()
    public struct Networks: Sendable, Equatable {
        public var local: [String] = []
        public var dark: [String] = []
    }

    /// Country databases; empty means tor-geoipdb's installed files.
    public var geoDatabases: [String] = []

    public var output = Output()
    public struct Output: Sendable, Equatable {
        /// Alert stream path, "-" for standard output, "" for none.
        public var alerts = ""
        /// Hourly count files; "" means no counting per hour.
        public var countsDirectory = ""
        /// Checkpoints of the open hour (live only); "" means none.
        public var stateDirectory = ""
        public var checkpointSeconds = 10
        public var hourGraceSeconds = 60
        /// Seconds between retries when the counts or state directory refuses a file.
        public var retrySeconds = 30
    }

    public var service = Service()
    public struct Service: Sendable, Equatable {
        /// `host:port` for the Prometheus endpoint; "" means off.
        public var metricsListen = ""
        /// Started as root: drop to this user once the capture is open; "" means stay.
        public var user = ""
        public var logLevel = "info"
    }

    public var tunables = Tunables()

    public init() {}

    /// The text settings that are set, as optionals.
    public static func value(_ text: String) -> String? { text.isEmpty ? nil : text }
}
