import PacketDecoding
import TrafficSynthesis

/// Decodes `frame` as the sensor would; returns the record or the failure.
func decode(_ frame: [UInt8], as linkType: LinkType = .ethernet) -> Result<PacketRecord, DecodeFailure> {
    var record = PacketRecord()
    let failure = frame.withUnsafeBytes { bytes in
        FrameDecoder.decode(bytes, linkType: linkType, time: PacketTime(nanoseconds: 42), wireLength: UInt32(frame.count), into: &record)
    }
    if let failure { return .failure(failure) }
    return .success(record)
}

extension Result where Success == PacketRecord, Failure == DecodeFailure {
    var record: PacketRecord? { if case .success(let r) = self { r } else { nil } }
    var failure: DecodeFailure? { if case .failure(let f) = self { f } else { nil } }
}

let scanner: UInt32 = 0xC633_6407       // 198.51.100.7
let darkHost: UInt32 = 0xC612_0102      // 198.18.1.2
let v6Source = FrameBuilder.ipv6Bytes(high: 0x2001_0DB8_0000_0001, low: 0x0000_0000_0000_0007)
let v6Destination = FrameBuilder.ipv6Bytes(high: 0x2001_0DB8_4000_0000, low: 0x0000_0000_0000_0001)

func tcpSYN(destinationPort: UInt16 = 445, options: [UInt8] = FrameBuilder.TCPOptions.mss(1460), payload: [UInt8] = []) -> FrameBuilder.Transport {
    .tcp(.init(sourcePort: 40000, destinationPort: destinationPort, sequence: 0x0102_0304, flags: 0x02, window: 1024,
               options: options, payload: payload))
}

func ipv4SYN(destinationPort: UInt16 = 445) -> [UInt8] {
    FrameBuilder.ipv4(source: scanner, destination: darkHost, transport: tcpSYN(destinationPort: destinationPort),
                      ttl: 57, identification: 54321)
}
