#!/bin/sh
# Deployment checks, run by `make test` after the Swift tests:
#   - systemd-analyze verify passes on the unit (and its man pages exist);
#   - systemd-analyze security rates the unit's exposure at 2.0 or below;
#   - the sysusers and tmpfiles snippets create the user and directories
#     (inside a scratch root, not on this machine);
#   - logrotate accepts the rotation file;
#   - `make deb` builds a package whose --info and --contents show the
#     binary, unit, conffile config, man pages and completions, and whose
#     binary runs and accepts its own packaged config;
#   - Deploy/install.sh stages the same files into a directory.
# Prints what it measured; exits non-zero on the first failure.
set -eu
cd "$(dirname "$0")/../.."
scratch=$(mktemp -d /tmp/teiten-deploy.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "check-deploy: FAIL: $*" >&2; exit 1; }
pass() { echo "check-deploy: ok: $*"; }

if ! command -v systemd-analyze >/dev/null; then
    fail "systemd-analyze missing (make test-deps installs the systemd package)"
fi

make --no-print-directory deb > "$scratch/deb.log" 2>&1 || { tail -30 "$scratch/deb.log" >&2; fail "make deb"; }
package=$(tail -1 "$scratch/deb.log")
[ -f "$package" ] || fail "make deb did not name a package: $package"

# --- unit files --------------------------------------------------------
# verify needs ExecStart's binary to exist and the Documentation= man pages
# to be found: point both at the build tree.
mkdir -p "$scratch/units" "$scratch/man/man1"
sed "s#/usr/bin/teiten#$(pwd)/.build/release/teiten#" systemd/teiten.service > "$scratch/units/teiten.service"
cp .build/deploy/man/*.1 "$scratch/man/man1/"
if ! MANPATH="$scratch/man" systemd-analyze verify "$scratch/units/teiten.service" > "$scratch/verify.log" 2>&1; then
    cat "$scratch/verify.log" >&2; fail "systemd-analyze verify systemd/teiten.service"
fi
pass "systemd-analyze verify systemd/teiten.service"

systemd-analyze security --offline=yes "$scratch/units/teiten.service" > "$scratch/security.log" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for teiten.service: \([0-9.]*\).*/\1/p' "$scratch/security.log")
[ -n "$score" ] || { cat "$scratch/security.log" >&2; fail "systemd-analyze security gave no score"; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { grep "✗" "$scratch/security.log" >&2; fail "exposure $score > 2.0"; }
pass "systemd-analyze security: exposure $score (at most 2.0 required)"

root="$scratch/root"
mkdir -p "$root/etc" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d"
cp systemd/teiten.sysusers "$root/usr/lib/sysusers.d/teiten.conf"
cp systemd/teiten.tmpfiles "$root/usr/lib/tmpfiles.d/teiten.conf"
systemd-sysusers --root="$root" > "$scratch/sysusers.log" 2>&1 || { cat "$scratch/sysusers.log" >&2; fail "systemd-sysusers"; }
grep -q '^teiten:' "$root/etc/passwd" || fail "sysusers created no teiten user"
systemd-tmpfiles --root="$root" --create > "$scratch/tmpfiles.log" 2>&1 || { cat "$scratch/tmpfiles.log" >&2; fail "systemd-tmpfiles"; }
for dir in var/lib/teiten/counts var/lib/teiten/state var/log/teiten; do
    [ -d "$root/$dir" ] || fail "tmpfiles did not create /$dir"
done
pass "sysusers and tmpfiles snippets"

# The teiten user exists only where the package is installed: check the
# file's syntax with root standing in for it.
sed 's/ teiten teiten$/ root root/' Deploy/teiten.logrotate > "$scratch/teiten.logrotate"
logrotate --debug --state "$scratch/logrotate.state" "$scratch/teiten.logrotate" > "$scratch/logrotate.log" 2>&1 \
    || { cat "$scratch/logrotate.log" >&2; fail "logrotate rejects Deploy/teiten.logrotate"; }
pass "logrotate accepts Deploy/teiten.logrotate"

# --- the package -------------------------------------------------------
dpkg-deb --info "$package" > "$scratch/info" || fail "dpkg-deb --info"
dpkg-deb --contents "$package" > "$scratch/contents" || fail "dpkg-deb --contents"
grep -q "Package: teiten" "$scratch/info" || fail "no Package: field"
grep -q "conffiles" "$scratch/info" || fail "no conffiles"
dpkg-deb --ctrl-tarfile "$package" | tar -xO ./conffiles | grep -qx /etc/teiten/teiten.toml || fail "teiten.toml is not a conffile"
for path in ./usr/bin/teiten ./usr/lib/systemd/system/teiten.service ./usr/lib/sysusers.d/teiten.conf \
            ./usr/lib/tmpfiles.d/teiten.conf ./etc/teiten/teiten.toml ./etc/logrotate.d/teiten \
            ./usr/share/man/man1/teiten.1.gz ./usr/share/man/man1/teiten-run.1.gz \
            ./usr/share/man/man1/teiten-check-config.1.gz \
            ./usr/share/bash-completion/completions/teiten ./usr/share/zsh/vendor-completions/_teiten \
            ./usr/share/fish/vendor_completions.d/teiten.fish ./usr/share/doc/teiten/operations.md; do
    grep -q " $path\$" "$scratch/contents" || fail "$path missing from the package"
done
pass "dpkg-deb --info/--contents: binary, unit, conffile, man pages, completions ($(du -h "$package" | cut -f1) package)"

dpkg-deb -x "$package" "$scratch/extracted"
"$scratch/extracted/usr/bin/teiten" --version | grep -q '^teiten ' || fail "the packaged binary does not run"
if ldd "$scratch/extracted/usr/bin/teiten" | grep -q 'libswift\|libFoundation'; then
    fail "the packaged binary links the Swift runtime dynamically"
fi
"$scratch/extracted/usr/bin/teiten" check-config --quiet "$scratch/extracted/etc/teiten/teiten.toml" \
    || fail "the packaged binary refuses its packaged config"
zcat "$scratch/extracted/usr/share/man/man1/teiten-run.1.gz" | grep -q 'Fl -config' || fail "teiten-run(1) lacks --config"
pass "packaged binary runs (static Swift runtime) and accepts its packaged config"

# --- install.sh --------------------------------------------------------
Deploy/install.sh --destdir "$scratch/staged" > /dev/null
for path in usr/bin/teiten usr/lib/systemd/system/teiten.service etc/teiten/teiten.toml etc/logrotate.d/teiten; do
    [ -f "$scratch/staged/$path" ] || fail "install.sh did not install /$path"
done
echo "# edited" >> "$scratch/staged/etc/teiten/teiten.toml"
Deploy/install.sh --destdir "$scratch/staged" > /dev/null
grep -q "# edited" "$scratch/staged/etc/teiten/teiten.toml" || fail "install.sh overwrote an edited config"
pass "Deploy/install.sh stages every file and keeps an edited config"
