internal import CPcap
#if canImport(Glibc)
internal import Glibc
#endif
public import PacketDecoding

extension PcapHandle {
    /// The IPv4 and IPv6 addresses of `interface`, as libpcap lists them
    /// (`pcap_findalldevs`): the sensor's own addresses in live mode, whose
    /// packets are never scans. Empty when the interface has none or the
    /// list cannot be read.
    public static func addresses(ofInterface interface: String) -> [IPAddress] {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        var list: UnsafeMutablePointer<pcap_if_t>?
        guard pcap_findalldevs(&list, &errorBuffer) == 0 else { return [] }
        defer { pcap_freealldevs(list) }
        var result: [IPAddress] = []
        var device = list
        while let current = device {
            if String(cString: current.pointee.name) == interface {
                var address = current.pointee.addresses
                while let entry = address {
                    if let socketAddress = entry.pointee.addr, let ip = Self.ipAddress(socketAddress) { result.append(ip) }
                    address = entry.pointee.next
                }
            }
            device = current.pointee.next
        }
        return result
    }

    private static func ipAddress(_ socketAddress: UnsafeMutablePointer<sockaddr>) -> IPAddress? {
        switch Int32(socketAddress.pointee.sa_family) {
        case AF_INET:
            return socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                IPAddress(ipv4: UInt32(bigEndian: $0.pointee.sin_addr.s_addr))
            }
        case AF_INET6:
            return socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                withUnsafeBytes(of: pointer.pointee.sin6_addr) { bytes in
                    IPAddress(high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                              low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
                }
            }
        default:
            return nil
        }
    }
}
