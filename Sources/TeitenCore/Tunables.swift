/// Every detection threshold, window and table size in one place, with its
/// default. The config file (with the daemon issue) and tests set them; the
/// defaults are DESIGN.md's and docs/detection.md explains each.
public struct Tunables: Sendable, Equatable {
    /// The largest threshold a sliding-window detector takes (vertical,
    /// horizontal, block, backscatter, flood): a key's window holds as many
    /// entries as its threshold, in fixed memory, and counts them in a byte.
    /// A larger threshold would never be reached; the config refuses it.
    public static let maximumWindowThreshold = WindowTable.maximumCapacity

    /// One source, one destination: distinct destination ports within the window.
    public var verticalScanPorts = 15
    public var verticalScanWindowSeconds = 300
    /// One source, one port: distinct destinations within the window.
    public var horizontalSweepTargets = 25
    public var horizontalSweepWindowSeconds = 300
    /// One source: at least this many distinct ports and this many distinct
    /// destinations within the window.
    public var blockScanPorts = 10
    public var blockScanTargets = 10
    public var blockScanWindowSeconds = 300
    /// One replying source: distinct destinations receiving backscatter within the window.
    public var backscatterTargets = 25
    public var backscatterWindowSeconds = 300
    /// One destination and port: distinct sources within the window.
    public var floodSources = 100
    public var floodWindowSeconds = 60
    /// Worm signatures matched on port alone need this many distinct
    /// destinations (the sweep threshold); payload-verified ones set their own.
    public var wormWindowSeconds = 300

    /// Port surge: distinct sources per port per interval against an EWMA baseline.
    public var surgeIntervalSeconds = 600
    /// Smoothing of the baseline (weight of the newest interval).
    public var surgeAlpha = 0.25
    /// The current interval must reach this many distinct sources...
    public var surgeMinimumSources = 30
    /// ...and this many times the baseline.
    public var surgeFactor = 4.0
    /// Intervals of history before a port's baseline is trusted.
    public var surgeWarmupIntervals = 3

    /// Threshold Random Walk (Jung, Paxson, Berger, Balakrishnan 2004) for
    /// first contacts to `--dark-network` space.
    public var trwDetectionProbability = 0.99
    public var trwFalsePositiveProbability = 0.01
    /// Probability that a benign source's first contact succeeds.
    public var trwTheta0 = 0.8
    /// Probability that a scanner's first contact succeeds.
    public var trwTheta1 = 0.2

    /// A fingerprint is named only when more than this share of the source's
    /// TCP probes carry it.
    public var fingerprintMajority = 0.5

    /// Episodes: an `update` line at most this often (packet time; hourly by default), when the
    /// episode grew; 0 turns updates off.
    public var updateIntervalSeconds = 3600
    /// Alert lines per second of packet time, beyond which new episodes are
    /// counted but not written (end lines of written episodes always are).
    public var alertsPerSecond = 200
    /// Ports listed in an alert's `dest_ports` at most (`ports` has the true count).
    public var maximumListedPorts = 32

    /// Table sizes: keys tracked per detector, and concurrent episodes. The
    /// stalest entries are evicted beyond them, and counted.
    public var trackedKeys = 65_536
    public var trackedSources = 262_144
    public var maximumEpisodes = 65_536

    public init() {}
}
