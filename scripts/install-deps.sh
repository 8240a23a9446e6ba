#!/bin/sh
# SPDX-License-Identifier: MIT
# install-deps.sh - install everything swerver needs to build, test and package
# on Debian 12 (bookworm): toolchain, libraries (QUIC ones from
# bookworm-backports), test clients and packaging tools (rpmlint for CI,
# debootstrap and systemd-nspawn for scripts/nspawn-test.sh and
# scripts/trixie-check.sh). Idempotent.
#
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --bench    also the peers bench/ measures against
set -eu

want_bench=0
[ "${1:-}" = "--bench" ] && want_bench=1

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

# The QUIC stack (ngtcp2 >= 1.x, nghttp3 >= 1.x, GnuTLS libcurl with HTTP/3)
# is only in bookworm-backports.  Trixie has it in the release, and must
# take it from there: trixie-backports has a newer ngtcp2 without the
# ngtcp2-client that the HTTP/3 suite runs, so the two would conflict.
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
from_backports=""
if [ "$codename" = bookworm ]; then
	from_backports="-t ${codename}-backports"
	bp=/etc/apt/sources.list.d/swerver-backports.list
	if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
		echo "deb http://deb.debian.org/debian ${codename}-backports main" | $SUDO tee "$bp" >/dev/null
	fi
fi

$SUDO apt-get update -qq

# bookworm: clang 14's runtime (libFuzzer), systemd.pc in systemd.  Later
# releases (trixie, scripts/trixie-check.sh): the default clang's runtime,
# systemd.pc in systemd-dev (debian/rules reads the unit directory there).
case $codename in
bookworm) release_pkgs="libclang-rt-14-dev" ;;
*) release_pkgs="libclang-rt-dev systemd-dev" ;;
esac

base="build-essential autoconf automake libtool pkg-config
 libssl-dev libnghttp2-dev libjson-c-dev libsystemd-dev liburing-dev check libcrypt-dev
 curl openssl nghttp2-client python3 iproute2 procps psmisc whois
 clang $release_pkgs
 groff-base man-db debhelper dpkg-dev devscripts lintian fakeroot
 rpm rpmlint debootstrap systemd-container logrotate
 systemd wrk haproxy"
backports="libngtcp2-dev libngtcp2-crypto-gnutls-dev libnghttp3-dev
 libgnutls28-dev libcurl4-gnutls-dev ngtcp2-client"
bench="nginx-light h2o caddy"

# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $base
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $from_backports $backports

# haproxy (test_proxy_protocol puts it in front of swerver) must not hold :80 as a service.
$SUDO systemctl disable --now haproxy >/dev/null 2>&1 || true

# ngtcp2-client may pull ngtcp2-server, whose unit listens on :7777; keep it off.
if systemctl list-unit-files ngtcp2d.service >/dev/null 2>&1; then
	$SUDO systemctl mask --now ngtcp2d.service >/dev/null 2>&1 || true
fi

if [ "$want_bench" -eq 1 ]; then
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $bench
	for s in nginx h2o haproxy caddy; do
		$SUDO systemctl disable --now "$s" >/dev/null 2>&1 || true
	done
fi
