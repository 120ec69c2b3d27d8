public import PacketDecoding

/// An IPv4 or IPv6 prefix ("198.18.0.0/15", "2001:db8::/32"), as given to
/// `--local-network` and `--dark-network`. IPv4 prefixes are held in the
/// IPv4-mapped space like `IPAddress`, so one comparison serves both.
public struct AddressPrefix: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    /// Prefix length in the 128-bit space (an IPv4 /24 is 96 + 24).
    public let length: Int

    /// Parses `ADDRESS/LENGTH` (or a bare address, as a host prefix).
    /// Host bits must be zero, so a typo such as 10.0.0.1/8 is caught.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(parts[0]) else { return nil }
        let maximum = address.isIPv4 ? 32 : 128
        var bits = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), (0...maximum).contains(value) else { return nil }
            bits = value
        }
        length = address.isIPv4 ? 96 + bits : bits
        network = address
        guard Self.mask(network, length) == network else { return nil }
    }

    @inline(__always)
    public func contains(_ address: IPAddress) -> Bool { Self.mask(address, length) == network }

    @inline(__always)
    static func mask(_ address: IPAddress, _ length: Int) -> IPAddress {
        let highMask: UInt64 = length >= 64 ? .max : (length == 0 ? 0 : ~0 << UInt64(64 - length))
        let lowBits = length - 64
        let lowMask: UInt64 = lowBits >= 64 ? .max : (lowBits <= 0 ? 0 : ~0 << UInt64(64 - lowBits))
        return IPAddress(high: address.high & highMask, low: address.low & lowMask)
    }

    public var description: String {
        network.isIPv4 ? "\(network)/\(length - 96)" : "\(network)/\(length)"
    }
}

/// A small set of prefixes, checked in order (an operator lists a handful).
public struct PrefixList: Sendable {
    public private(set) var prefixes: [AddressPrefix]
    public init(_ prefixes: [AddressPrefix] = []) { self.prefixes = prefixes }
    public var isEmpty: Bool { prefixes.isEmpty }
    public mutating func append(_ prefix: AddressPrefix) { if !prefixes.contains(prefix) { prefixes.append(prefix) } }

    @inline(__always)
    public func contains(_ address: IPAddress) -> Bool {
        for prefix in prefixes where prefix.contains(address) { return true }
        return false
    }
}
