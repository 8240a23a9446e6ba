#!/bin/sh
# SPDX-License-Identifier: MIT
# trixie-check.sh - the release tarball on Debian 13 (trixie), in a chroot:
# scripts/install-deps.sh, ./configure --enable-werror, make, make check,
# then the .deb from the same tarball and lintian on it.  Too long for
# .ci/run (a second full make check), so run by hand before a release:
#
#   scripts/trixie-check.sh                 make dist here, then test it
#   scripts/trixie-check.sh swerver-X.tar.gz
#   TESTS="tests/integration/test_tls" scripts/trixie-check.sh   some suites
#
# Needs root and debootstrap (scripts/install-deps.sh).  The debootstrapped
# root is cached in /var/cache/swerver-ci/trixie and each run works on an
# overlay of it; downloaded packages are kept in
# /var/cache/swerver-ci/trixie-apt.  The chroot shares the host's network
# namespace: the integration suites listen on ephemeral 127.0.0.1 ports
# like everywhere else.  Exit 0 when everything passed; the logs of failed
# suites are printed.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cache=/var/cache/swerver-ci
base=$cache/trixie
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d /var/tmp/swerver-trixie.XXXXXX)
root=$work/root

log() { printf '==== %s\n' "$*" >&2; }

cleanup() {
	if mountpoint -q "$root"; then
		umount -R "$root" 2>/dev/null || umount -R -l "$root"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || { echo "trixie-check.sh: needs root" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "trixie-check.sh: debootstrap missing" >&2; exit 2; }

# ---- the tarball ----------------------------------------------------------------
make_dist() {
	log "make dist from $top"
	mkdir -p "$work/src"
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -P -t "$work/src")
	(cd "$work/src" && autoreconf -fi && ./configure && make dist) >"$work/dist.log" 2>&1 ||
		{ tail -n 30 "$work/dist.log"; exit 1; }
	ls "$work"/src/swerver-*.tar.gz
}
if [ $# -ge 1 ]; then tarball=$(readlink -f "$1"); else tarball=$(make_dist); fi
[ -f "$tarball" ] || { echo "trixie-check.sh: no tarball at $tarball" >&2; exit 2; }

# ---- the root: cached debootstrap, an overlay per run ------------------------------
if [ ! -d "$base" ]; then
	log "debootstrapping trixie into $base (once)"
	mkdir -p "$cache"
	rm -rf "$base.tmp"
	debootstrap --variant=minbase --include=ca-certificates trixie "$base.tmp" "$mirror"
	mv "$base.tmp" "$base"
fi
mkdir -p "$root" "$work/upper" "$work/ovl" "$cache/trixie-apt"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/ovl" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
mount --bind "$cache/trixie-apt" "$root/var/cache/apt/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$tarball" "$root/srv/"
cp "$top/scripts/install-deps.sh" "$root/srv/"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

log "scripts/install-deps.sh on trixie"
in_root sh -c 'apt-get update -qq && /srv/install-deps.sh' >"$work/deps.log" 2>&1 ||
	{ tail -n 30 "$work/deps.log"; exit 1; }
in_root sh -c 'echo "gcc: $(gcc -dumpfullversion), OpenSSL: $(openssl version),";
	echo "python3: $(command -v python3 || echo missing), gtlsclient: $(command -v gtlsclient || echo missing)"' >&2

log "configure --enable-werror, make, make check"
rc=0
in_root env TESTS="${TESTS:-}" sh -c 'cd /srv && rm -rf build && mkdir build &&
	tar -xzf swerver-*.tar.gz -C build --strip-components=1 &&
	cd build && ./configure --enable-werror && make -j2 &&
	if [ -n "$TESTS" ]; then make -j2 check TESTS="$TESTS"; else make -j2 check; fi' \
	>"$work/check.log" 2>&1 || rc=$?
grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL|XPASS):|^# (TOTAL|PASS|SKIP|FAIL|ERROR)' "$work/check.log" >&2 || true
if [ "$rc" -ne 0 ]; then
	tail -n 40 "$work/check.log" >&2
	for trs in $(grep -lsE '^:test-result: (FAIL|ERROR)' "$root"/srv/build/tests/*/*.trs); do
		printf '\n---- %s ----\n' "${trs%.trs}.log" >&2
		tail -n 60 "${trs%.trs}.log" >&2
	done
fi

log "the .deb from the tarball, lintian"
deb_rc=0
in_root sh -c 'cd /srv && rm -rf deb && mkdir deb && tar -xzf swerver-*.tar.gz -C deb &&
	cd deb/swerver-* && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -b -us -uc &&
	cd .. && dpkg-deb -c swerver_*.deb | grep systemd/system/ &&
	lintian --fail-on error,warning swerver_*.deb' >"$work/deb.log" 2>&1 || deb_rc=$?
grep -E 'systemd/system/|^[EW]: ' "$work/deb.log" >&2 || true
[ "$deb_rc" -eq 0 ] || tail -n 30 "$work/deb.log" >&2

if [ "$rc" -eq 0 ] && [ "$deb_rc" -eq 0 ]; then log "trixie: all passed"; exit 0; fi
log "trixie: make check exit $rc, .deb/lintian exit $deb_rc"
exit 1
