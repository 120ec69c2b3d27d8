import Logging

/// The sensor's logger: standard error, in journald's format under systemd
/// (see `JournalLogHandler`, installed at the start of `Teiten.main`).
let log = Logger(label: "teiten")
