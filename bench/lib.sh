# SPDX-License-Identifier: MIT
# bench/lib.sh - what the bench scripts share: scratch directory and cleanup,
# the -O2 build, the site and certificate, ports, CPU accounting, medians.
# Sourced, not run. A script sets its own options first, then sources this.
# shellcheck shell=bash

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d /tmp/swerver-bench.XXXXXX)
pids=()
load_pid=
ncpu=$(nproc)
hz=$(getconf CLK_TCK)
us_per_tick=$((1000000 / hz))

# Kill the load generator first, then every server and the helpers it forked
# (nginx's workers, h2o's key-signing process), so nothing outlives the run.
cleanup() {
	local p kids
	if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null || true; fi
	for p in "${pids[@]:-}"; do
		[ -n "$p" ] || continue
		kids=$(cat /proc/"$p"/task/*/children 2>/dev/null || true)
		kill "$p" 2>/dev/null || true
		# shellcheck disable=SC2086 # one pid per word
		if [ -n "$kids" ]; then kill $kids 2>/dev/null || true; fi
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() { # tool...
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null ||
			{ echo "$tool missing: run scripts/install-deps.sh --bench" >&2; exit 1; }
	done
}

# The servers get the first CPUs, the load generator the rest, so they do
# not fight for a core. Sets server_cpus and client_cpus.
split_cpus() { # workers
	server_cpus="0-$(($1 - 1))"
	client_cpus="$1-$((ncpu - 1))"
	if [ "$1" -ge "$ncpu" ]; then client_cpus="0-$((ncpu - 1))"; fi
}

# swerver (and the given extra targets, e.g. bench/h3load) built with -O2
# and $configure_flags in the scratch directory, unless SWERVER_BIN points
# at a binary; prints the build directory.
configure_flags=
build_swerver() { # extra-make-target...
	if [ -n "${SWERVER_BIN:-}" ]; then dirname "$SWERVER_BIN"; return; fi
	[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi) >/dev/null 2>&1
	mkdir -p "$work/build"
	# shellcheck disable=SC2086 # flags are words
	(cd "$work/build" && "$top/configure" CFLAGS="-O2 -g" $configure_flags >/dev/null &&
		make -j"$ncpu" swerver "$@" >/dev/null)
	echo "$work/build"
}

# A world-readable tree (nginx's and h2o's workers run as nobody) with a
# 4 KiB file and an empty /.healthz file for servers with no fixed-response
# handler, and an ECDSA P-256 certificate, what a production site deploys.
make_site() {
	mkdir -p "$work/www"
	head -c 4096 /dev/urandom > "$work/www/4k.bin"
	: > "$work/www/.healthz"
	chmod 755 "$work" "$work/www"
	chmod 644 "$work/www/"* "$work/www/.healthz"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$work/key.pem" -out "$work/cert.pem" -days 2 -subj /CN=localhost \
		-addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
	chmod 644 "$work/cert.pem" "$work/key.pem"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# CPU ticks (user + system) used so far by a process and its children.
cpu_ticks() { # pid
	local total=0 p
	for p in $1 $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ -r /proc/"$p"/stat ] || continue
		total=$((total + $(awk '{ print $14 + $15 }' /proc/"$p"/stat)))
	done
	echo "$total"
}

# Busy ticks of all CPUs, and of this shell's reaped children (the load
# generator once it has been waited for). irq and softirq count as busy:
# the softirq work of loopback traffic also shows in the processes' system
# time.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
child_ticks() { awk '{ print $16 + $17 }' /proc/$$/stat; }

median() { sort -g | awk 'NF { a[++n] = $1 } END { print a[int((n + 1) / 2)] }'; }
