#if canImport(Glibc)
internal import Glibc
#endif

/// Started as root outside systemd, `teiten run` opens the capture (which
/// needs root) and then becomes an ordinary user for everything else, as
/// `tcpdump -Z` does: a flaw in the decoder then yields that user, not root.
/// Under systemd the unit starts it unprivileged with CAP_NET_RAW instead,
/// and there is nothing to drop.
public enum PrivilegeDrop {
    public struct Failure: Error, CustomStringConvertible { public let description: String }

    /// Whether the process can and must switch (root, and a user named).
    public static var runningAsRoot: Bool { geteuid() == 0 }

    /// Switches group list, group and user, irrevocably; checks that root
    /// cannot be regained.
    public static func switchTo(user name: String) throws(Failure) {
        guard let entry = getpwnam(name) else {
            throw Failure(description: "service.user '\(name)': no such user")
        }
        let uid = entry.pointee.pw_uid
        let gid = entry.pointee.pw_gid
        guard initgroups(name, gid) == 0 else { throw failure("initgroups", name) }
        guard setgid(gid) == 0 else { throw failure("setgid", name) }
        guard setuid(uid) == 0 else { throw failure("setuid", name) }
        if uid != 0 && (setuid(0) == 0 || seteuid(0) == 0) {
            throw Failure(description: "switching to user '\(name)': root could be regained; refusing to go on")
        }
    }

    /// The user exists (for check-config).
    public static func userExists(_ name: String) -> Bool { getpwnam(name) != nil }

    private static func failure(_ call: String, _ name: String) -> Failure {
        Failure(description: "switching to user '\(name)': \(call): \(String(cString: strerror(errno)))")
    }
}
