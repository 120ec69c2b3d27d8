/// A capture that could not be opened, configured or read. The message is one
/// line that names the input and gives libpcap's own reason.
public struct CaptureError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The file or interface does not exist or cannot be opened/read as a capture.
        case cannotOpen
        /// The process lacks the privilege to capture (CAP_NET_RAW / root).
        case permissionDenied
        /// A setting libpcap refused (snaplen, buffer, timestamp type, ...).
        case configuration
        /// The BPF filter expression does not compile or cannot be installed.
        case filter
        /// Reading failed after the capture was open (damaged file, interface gone).
        case read
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
