#if canImport(Glibc)
internal import Glibc
#endif
internal import Synchronization

/// A minimal HTTP/1.0 server for Prometheus scrapes: `GET /metrics` returns
/// the text exposition format, anything else 404. One thread, one connection
/// at a time, every read and write under a timeout, requests capped at 8 KiB:
/// a scraper that misbehaves can slow the endpoint, never the capture.
///
/// Written on plain sockets rather than SwiftNIO: a scrape every few seconds
/// needs no event loop, and the sensor stays a single small binary that
/// builds in seconds.
public final class MetricsEndpoint: Sendable {
    public struct BindError: Error, CustomStringConvertible { public let description: String }

    public let address: ListenAddress
    private let listener: Int32
    private let stopRequested = Atomic<Bool>(false)
    private let metrics: SensorMetrics

    /// Binds and listens now (so that a port in use is reported at start,
    /// and a port below 1024 is bound before privileges are dropped); serves
    /// from `start()`.
    public init(address: ListenAddress, metrics: SensorMetrics) throws(BindError) {
        self.address = address
        self.metrics = metrics
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var found: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(address.host, String(address.port), &hints, &found)
        guard status == 0, let info = found else {
            throw BindError(description: "metrics address \(address): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard fd >= 0, bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw BindError(description: "metrics address \(address): \(reason)")
        }
        listener = fd
    }

    public func start() {
        DetachedThread.start { [self] in serve() }
    }

    public func stop() { stopRequested.store(true, ordering: .relaxed) }

    private func serve() {
        defer { close(listener) }
        while !stopRequested.load(ordering: .relaxed) {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 250) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            answer(connection)
            close(connection)
        }
    }

    private func answer(_ connection: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard let request = readRequestHead(connection) else { return }
        let firstLine = request.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        let parts = firstLine.split(separator: " ")
        let body: [UInt8]
        let status: String
        var contentType = "text/plain; charset=utf-8"
        if parts.count >= 2, parts[0] == "GET" || parts[0] == "HEAD",
           parts[1] == "/metrics" || parts[1].hasPrefix("/metrics?") {
            status = "200 OK"
            contentType = "text/plain; version=0.0.4; charset=utf-8"
            body = parts[0] == "HEAD" ? [] : metrics.exposition()
        } else {
            status = "404 Not Found"
            body = Array("teiten serves its metrics at /metrics\n".utf8)
        }
        let head = "HTTP/1.0 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        sendAll(connection, Array(head.utf8) + body)
    }

    /// Reads until the blank line that ends the request head, at most 8 KiB.
    private func readRequestHead(_ connection: Int32) -> String? {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while bytes.count < 8192 {
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return nil }
            bytes += chunk[0..<count]
            if bytes.count >= 4, String(decoding: bytes, as: UTF8.self).contains("\r\n\r\n") || bytes.suffix(2) == [10, 10] {
                return String(decoding: bytes, as: UTF8.self)
            }
        }
        return nil
    }

    private func sendAll(_ connection: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let sent = send(connection, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if sent < 0 && errno == EINTR { continue }
                guard sent > 0 else { return }
                offset += sent
            }
        }
    }
}

/// A plain detached thread (the endpoint blocks in poll and must not sit on
/// Swift's cooperative pool).
enum DetachedThread {
    static func start(_ body: @escaping @Sendable () -> Void) {
        final class Box: @unchecked Sendable {  // handed to exactly one new thread
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        pthread_detach(thread)
    }
}
