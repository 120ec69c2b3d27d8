#if canImport(Glibc)
import Glibc
#endif
import PacketDecoding
import Testing
import TrafficSynthesis

@Suite("IPv4 and IPv6")
struct NetworkLayerTests {
    @Test func ipv4Options() throws {
        // Record route (7) with room for one address, plus end-of-list padding: IHL 8.
        let packet = FrameBuilder.ipv4(source: scanner, destination: darkHost, transport: tcpSYN(destinationPort: 23),
                                       options: [7, 7, 4, 0, 0, 0, 0])
        #expect(packet[0] & 0x0F == 7)
        let record = try #require(decode(packet, as: .raw).record)
        #expect(record.destinationPort == 23)
    }

    @Test func ipv4Fragments() throws {
        let first = FrameBuilder.ipv4(source: scanner, destination: darkHost, transport: tcpSYN(destinationPort: 80),
                                      identification: 77, moreFragments: true)
        let firstRecord = try #require(decode(first, as: .raw).record)
        #expect(firstRecord.fragment.isFragment && firstRecord.fragment.offset == 0)
        #expect(firstRecord.destinationPort == 80, "ports come from the first fragment")

        // A later fragment whose bytes happen to look like a TCP header: no ports from it.
        let later = FrameBuilder.ipv4(source: scanner, destination: darkHost, transport: tcpSYN(destinationPort: 80),
                                      identification: 77, fragmentOffset: 1480)
        let laterRecord = try #require(decode(later, as: .raw).record)
        #expect(laterRecord.fragment.offset == 1480 && laterRecord.fragment.isFragment)
        #expect(laterRecord.destinationPort == 0 && laterRecord.sourcePort == 0)
        #expect(laterRecord.transport == .tcp)
    }

    @Test func ipv4HeaderLies() {
        var packet = ipv4SYN()
        packet[0] = 0x44  // IHL 4 words: less than the fixed header
        #expect(decode(packet, as: .raw).failure == .ipv4BadHeaderLength)
        packet = ipv4SYN()
        packet[2] = 0; packet[3] = 10  // total length below the header
        #expect(decode(packet, as: .raw).failure == .ipv4BadTotalLength)
        packet = ipv4SYN()
        packet[0] = 0x4F  // IHL 60 bytes, more than captured
        #expect(decode(Array(packet.prefix(40)), as: .raw).failure == .ipv4Truncated)
    }

    @Test func ipv4TotalLengthZeroMeansCaptured() throws {
        var packet = ipv4SYN()
        packet[2] = 0; packet[3] = 0  // as written by segmentation offload
        let record = try #require(decode(packet, as: .raw).record)
        #expect(record.destinationPort == 445 && Int(record.ipLength) == packet.count)
    }

    @Test(arguments: [
        [FrameBuilder.ExtensionHeader.options(type: 0)],
        [.routing(segment: [UInt8](repeating: 0x20, count: 16))],
        [.options(type: 60)],
        [.fragment(offset: 0, more: true, identification: 0xDEAD_BEEF)],
        [.options(type: 0), .routing(segment: [UInt8](repeating: 1, count: 16)), .options(type: 60)],
        [FrameBuilder.ExtensionHeader(type: 51, body: [4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])],
    ])
    func ipv6ExtensionHeaders(chain: [FrameBuilder.ExtensionHeader]) throws {
        let packet = FrameBuilder.ipv6(source: v6Source, destination: v6Destination,
                                       transport: .udp(sourcePort: 5353, destinationPort: 1434, payload: [4, 1, 1, 1]),
                                       hopLimit: 50, extensionHeaders: chain)
        let record = try #require(decode(packet, as: .raw).record)
        #expect(record.transport == .udp)
        #expect(record.destinationPort == 1434 && record.payloadLength == 4)
        #expect(record.ttl == 50)
        #expect(record.source.description == "2001:db8:0:1::7")
        if chain.contains(where: { $0.type == 44 }) { #expect(record.ipID == 0xDEAD_BEEF) }
    }

    @Test func ipv6LaterFragmentHasNoPorts() throws {
        let packet = FrameBuilder.ipv6(source: v6Source, destination: v6Destination, transport: tcpSYN(),
                                       extensionHeaders: [.fragment(offset: 1232, more: false, identification: 9)])
        let record = try #require(decode(packet, as: .raw).record)
        #expect(record.fragment.offset == 1232 && record.destinationPort == 0 && record.transport == .tcp)
    }

    @Test func ipv6ExtensionAbuse() {
        let many = [FrameBuilder.ExtensionHeader](repeating: .options(type: 60), count: 12)
        let packet = FrameBuilder.ipv6(source: v6Source, destination: v6Destination, transport: tcpSYN(), extensionHeaders: many)
        #expect(decode(packet, as: .raw).failure == .ipv6TooManyExtensions)

        var lying = FrameBuilder.ipv6(source: v6Source, destination: v6Destination, transport: tcpSYN(),
                                      extensionHeaders: [.options(type: 0)])
        lying[41] = 200  // hop-by-hop claims 1608 bytes
        #expect(decode(lying, as: .raw).failure == .ipv6ExtensionTruncated)
    }

    @Test func icmpAndICMPv6() throws {
        let echo = FrameBuilder.ipv4(source: scanner, destination: darkHost, transport: .icmp(type: 8, code: 0, body: [0, 1, 0, 1]))
        let v4 = try #require(decode(echo, as: .raw).record)
        #expect(v4.transport == .icmp && v4.icmpType == 8 && v4.icmpCode == 0 && v4.destinationPort == 0)
        let unreachable = FrameBuilder.ipv6(source: v6Source, destination: v6Destination,
                                            transport: .icmp(type: 1, code: 4, body: [0, 0, 0, 0]))
        let v6 = try #require(decode(unreachable, as: .raw).record)
        #expect(v6.transport == .icmp6 && v6.icmpType == 1 && v6.icmpCode == 4)
        #expect(decode(Array(echo.prefix(22)), as: .raw).failure == .icmpTruncated)
    }

    @Test func addressText() {
        for text in ["198.18.0.1", "::", "::1", "2001:db8::1", "2001:db8:0:1::7", "fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "2001:db8::"] {
            #expect(IPAddress(text)?.description == text, "\(text)")
        }
        #expect(IPAddress("2001:DB8:0:0:1:0:0:1")?.description == "2001:db8::1:0:0:1")
        #expect(IPAddress("::ffff:198.18.0.1")?.isIPv4 == true)
        for bad in ["", "1.2.3", "1.2.3.256", "1::2::3", "12345::", "1.2.3.4.5", "g::1", ":::"] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
    }

    /// IPv6 text against glibc's `inet_pton`, on addresses written every
    /// way (zeros compressed anywhere, upper case, leading zeros, embedded
    /// dotted quads) and on the same text cut, spliced and mistyped.
    @Test func ipv6TextAgreesWithInetPton() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ bound: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(bound))
        }
        func written() -> String {
            var groups = (0..<8).map { _ in next(3) == 0 ? 0 : next(4) == 0 ? next(16) : next(65536) }
            if next(4) == 0 { groups.replaceSubrange(0..<6, with: [0, 0, 0, 0, 0, 0xFFFF]) }
            var fields = groups.map { group -> String in
                let hex = String(group, radix: 16, uppercase: next(5) == 0)
                return next(6) == 0 ? String(repeating: "0", count: max(0, 4 - hex.count)) + hex : hex
            }
            if next(3) == 0 {  // the last two groups as a dotted quad (octets without leading zeros)
                fields.removeLast(2)
                fields.append([groups[6] >> 8, groups[6] & 0xFF, groups[7] >> 8, groups[7] & 0xFF].map(String.init).joined(separator: "."))
            }
            if next(2) == 0 {  // "::" for a run of fields
                let start = next(fields.count), length = 1 + next(fields.count - start)
                fields.replaceSubrange(start..<(start + length), with: [""])
                if start == 0 { fields.insert("", at: 0) }
                if start + 1 == fields.count { fields.append("") }
            }
            return fields.joined(separator: ":")
        }
        let alphabet = Array("0123456789abcdefABCDEFg:.:::")
        var compared = 0
        for _ in 0..<60_000 {
            var text = Array(written())
            switch next(4) {
            case 0: text.removeSubrange(next(text.count)..<text.count)
            case 1: text.insert(alphabet[next(alphabet.count)], at: next(text.count + 1))
            case 2: text[next(text.count)] = alphabet[next(alphabet.count)]
            default: break
            }
            let candidate = String(text)
            // glibc refuses a dotted octet with a leading zero, the parser allows it (as in IPv4 text): left out.
            let octets = candidate.split(separator: ":", omittingEmptySubsequences: false).last?.split(separator: ".") ?? []
            guard candidate.contains(":"), octets.count < 2 || !octets.contains(where: { $0.count > 1 && $0.first == "0" }) else { continue }
            var expected = in6_addr()
            let valid = inet_pton(AF_INET6, candidate, &expected) == 1
            let parsed = IPAddress(candidate)
            let expectedBytes = withUnsafeBytes(of: &expected) { Array($0) }
            let parsedBytes = parsed.map { address in
                (0..<16).map { UInt8(truncatingIfNeeded: ($0 < 8 ? address.high >> (56 - 8 * UInt64($0)) : address.low >> (120 - 8 * UInt64($0)))) }
            }
            #expect(valid ? parsedBytes == expectedBytes : parsed == nil, "\(candidate)")
            compared += 1
        }
        #expect(compared > 40_000)
    }
}
