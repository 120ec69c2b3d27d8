import PcapCapture

/// The version printed by `teiten --version`, with the libpcap it runs on.
enum TeitenVersion {
    static let number = "0.1.0"
    static var description: String { "teiten \(number) (\(PcapHandle.libraryVersion))" }
}
