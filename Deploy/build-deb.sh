#!/bin/sh
# Builds the Debian package with dpkg-deb from the build tree (`make deb`
# runs it after the man pages, completions and static release binary).
# Output: .build/teiten_VERSION_ARCH.deb
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
version=$("$root/.build/release/teiten" --version | sed -n 's/^teiten \([^ ]*\).*/\1/p')
arch=$(dpkg --print-architecture)
stage="$root/.build/deb/teiten_${version}_$arch"
rm -rf "$stage"
"$root/Deploy/install.sh" --destdir "$stage"
strip --strip-unneeded "$stage/usr/bin/teiten"

mkdir -p "$stage/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: teiten
Version: $version
Architecture: $arch
Maintainer: Teiten developers <teiten@localhost>
Installed-Size: $size
Depends: libc6, libstdc++6, libgcc-s1, libpcap0.8, libmaxminddb0, systemd
Recommends: tor-geoipdb, logrotate
Section: net
Priority: optional
Homepage: https://github.com/teiten/teiten
Description: network observation sensor (darknet scans, sweeps, worms)
 Teiten captures packets with libpcap on a darknet or sensor interface,
 detects port scans, sweeps, worm-like propagation, backscatter and floods
 in sliding windows, writes an alert stream (JSON Lines) and per-port,
 per-country hourly count files, and runs as a hardened systemd service
 (Type=notify, watchdog, unprivileged user with CAP_NET_RAW).
CONTROL
cp "$root/Deploy/debian/conffiles" "$stage/DEBIAN/conffiles"
install -m 0755 "$root/Deploy/debian/postinst" "$stage/DEBIAN/postinst"
install -m 0755 "$root/Deploy/debian/prerm" "$stage/DEBIAN/prerm"
install -m 0755 "$root/Deploy/debian/postrm" "$stage/DEBIAN/postrm"

package="$root/.build/teiten_${version}_$arch.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$package" >/dev/null
echo "$package"
