#!/bin/sh
# Installs Teiten from the build tree: the binary (.build/release/teiten,
# from `make build`), the systemd unit, sysusers and tmpfiles snippets, the
# example config (never over an existing one), the logrotate file, docs, and
# the man pages and shell completions when `make deb` (or `make man`) made them.
#
#   sudo Deploy/install.sh                  install into / and set up the user
#   Deploy/install.sh --destdir DIR         stage into DIR (packaging, tests)
#
# Then: set capture.interface in /etc/teiten/teiten.toml and
#   sudo systemctl enable --now teiten
set -eu

destdir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --destdir) destdir="$2"; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (try --help)" >&2; exit 64 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
binary="$root/.build/release/teiten"
[ -x "$binary" ] || { echo "install.sh: $binary: not built; run 'make build' first" >&2; exit 66; }
generated="$root/.build/deploy"   # man pages and completions from `make man`

put() {  # put MODE SOURCE TARGET
    install -D -m "$1" "$2" "$destdir$3"
}

put 0755 "$binary" /usr/bin/teiten
put 0644 "$root/systemd/teiten.service" /usr/lib/systemd/system/teiten.service
put 0644 "$root/systemd/teiten.sysusers" /usr/lib/sysusers.d/teiten.conf
put 0644 "$root/systemd/teiten.tmpfiles" /usr/lib/tmpfiles.d/teiten.conf
put 0644 "$root/Deploy/teiten.logrotate" /etc/logrotate.d/teiten
if [ -e "$destdir/etc/teiten/teiten.toml" ]; then
    echo "install.sh: keeping the existing $destdir/etc/teiten/teiten.toml (the new example is teiten.toml.dist)"
    put 0644 "$root/Deploy/teiten.toml" /etc/teiten/teiten.toml.dist
else
    put 0644 "$root/Deploy/teiten.toml" /etc/teiten/teiten.toml
fi
for doc in README.md docs/*.md; do
    put 0644 "$root/$doc" "/usr/share/doc/teiten/$(basename "$doc")"
done
if [ -d "$generated/man" ]; then
    for page in "$generated"/man/*.1; do
        gzip -9n < "$page" > "$generated/page.gz"
        put 0644 "$generated/page.gz" "/usr/share/man/man1/$(basename "$page").gz"
    done
    rm -f "$generated/page.gz"
fi
if [ -d "$generated/completions" ]; then
    put 0644 "$generated/completions/teiten.bash" /usr/share/bash-completion/completions/teiten
    put 0644 "$generated/completions/_teiten" /usr/share/zsh/vendor-completions/_teiten
    put 0644 "$generated/completions/teiten.fish" /usr/share/fish/vendor_completions.d/teiten.fish
fi

# Into the live system: create the user and directories, tell systemd.
if [ -z "$destdir" ]; then
    systemd-sysusers /usr/lib/sysusers.d/teiten.conf
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/teiten.conf
    if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
    echo "install.sh: installed. Set capture.interface in /etc/teiten/teiten.toml, then: systemctl enable --now teiten"
fi
