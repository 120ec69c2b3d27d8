import Foundation
import Synchronization
import TeitenCore
import Logging

/// SIGHUP reloads the country database without losing a packet: the new
/// database is built on its own thread while capture goes on, and the
/// capture loop swaps it in between two packets once it is ready. A
/// database that fails to load is reported and the old one kept.
final class CountryReloader: Sendable {
    private let paths: [String]
    private let ready = Mutex<CountryDatabase?>(nil)
    private let loading = Atomic<Bool>(false)

    init(paths: [String]) { self.paths = paths }

    /// Starts a reload unless one is under way.
    func begin() {
        guard !paths.isEmpty, !loading.exchange(true, ordering: .acquiring) else { return }
        Thread { [self] in
            var database = CountryDatabase()
            do {
                try database.load(paths: paths)
                ready.withLock { $0 = database }
                log.info("reloaded the country database: \(paths.joined(separator: ", "))")
            } catch {
                log.warning("country database not reloaded, keeping the old one: \(error)")
            }
            loading.store(false, ordering: .releasing)
        }.start()
    }

    /// The freshly loaded database, once (nil until one is ready).
    func take() -> CountryDatabase? {
        ready.withLock { database in
            defer { database = nil }
            return database
        }
    }
}
