internal import CMaxMindDB
#if canImport(Glibc)
internal import Glibc
#endif
internal import PacketDecoding

/// A MaxMind DB file (GeoLite2-Country, DB-IP Country Lite, ...) read
/// through libmaxminddb, the library the field uses. The file is memory
/// mapped by libmaxminddb; the `MMDB_s` lives at a fixed heap address for
/// the object's life (libmaxminddb keeps pointers into it).
///
/// `@unchecked Sendable`: after `open`, only lookups happen, and
/// libmaxminddb's lookups on one handle are read-only.
final class MaxMindDatabase: @unchecked Sendable {
    let path: String
    private let handle: UnsafeMutablePointer<MMDB_s>
    /// ["country", "iso_code", NULL] and ["registered_country", "iso_code", NULL], as C strings.
    private let countryPath: UnsafeMutablePointer<UnsafePointer<CChar>?>
    private let registeredPath: UnsafeMutablePointer<UnsafePointer<CChar>?>

    /// True when the file ends with MaxMind DB metadata (its format marker
    /// "\xAB\xCD\xEFMaxMind.com" lies in the last 128 KiB).
    static func recognises(_ path: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return false }
        let length = min(Int(status.st_size), 128 * 1024)
        guard length >= 14 else { return false }
        var bytes = [UInt8](repeating: 0, count: length)
        guard pread(fd, &bytes, length, off_t(Int(status.st_size) - length)) == length else { return false }
        let marker: [UInt8] = [0xAB, 0xCD, 0xEF] + Array("MaxMind.com".utf8)
        guard bytes.count >= marker.count else { return false }
        for start in stride(from: bytes.count - marker.count, through: 0, by: -1) where bytes[start] == 0xAB {
            if Array(bytes[start..<(start + marker.count)]) == marker { return true }
        }
        return false
    }

    init(path: String) throws(CountryDatabase.LoadError) {
        self.path = path
        handle = UnsafeMutablePointer<MMDB_s>.allocate(capacity: 1)
        handle.initialize(to: MMDB_s())
        let status = MMDB_open(path, UInt32(MMDB_MODE_MMAP), handle)
        guard status == MMDB_SUCCESS else {
            let reason = String(cString: MMDB_strerror(status))
            handle.deallocate()
            throw CountryDatabase.LoadError(description: "\(path): not a usable MaxMind database: \(reason)")
        }
        countryPath = Self.cPath(["country", "iso_code"])
        registeredPath = Self.cPath(["registered_country", "iso_code"])
    }

    deinit {
        MMDB_close(handle)
        handle.deallocate()
        for path in [countryPath, registeredPath] {
            var index = 0
            while let part = path[index] { free(UnsafeMutablePointer(mutating: part)); index += 1 }
            path.deallocate()
        }
    }

    /// The record's country (or, failing that, registered country) ISO code,
    /// packed like `CountryDatabase` codes; `CountryDatabase.unknown` if none.
    func code(of address: IPAddress) -> UInt16 {
        var error: Int32 = 0
        var result: MMDB_lookup_result_s
        if address.isIPv4 {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_addr.s_addr = address.ipv4.bigEndian
            result = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { MMDB_lookup_sockaddr(handle, $0, &error) }
            }
        } else {
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { bytes in
                bytes.storeBytes(of: address.high.bigEndian, toByteOffset: 0, as: UInt64.self)
                bytes.storeBytes(of: address.low.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            result = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { MMDB_lookup_sockaddr(handle, $0, &error) }
            }
        }
        guard error == MMDB_SUCCESS, result.found_entry else { return CountryDatabase.unknown }
        return isoCode(&result.entry, countryPath) ?? isoCode(&result.entry, registeredPath) ?? CountryDatabase.unknown
    }

    private func isoCode(_ entry: inout MMDB_entry_s, _ path: UnsafeMutablePointer<UnsafePointer<CChar>?>) -> UInt16? {
        var data = MMDB_entry_data_s()
        guard MMDB_aget_value(&entry, &data, path) == MMDB_SUCCESS, data.has_data,
              data.type == UInt32(MMDB_DATA_TYPE_UTF8_STRING), data.data_size == 2,
              let text = data.utf8_string else { return nil }
        let first = UInt8(bitPattern: text[0]), second = UInt8(bitPattern: text[1])
        return CountryDatabase.pack(first, second)
    }

    private static func cPath(_ parts: [String]) -> UnsafeMutablePointer<UnsafePointer<CChar>?> {
        let path = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: parts.count + 1)
        for (index, part) in parts.enumerated() { path[index] = UnsafePointer(strdup(part)) }
        path[parts.count] = nil
        return path
    }
}
