#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/http3.sh - swerver's HTTP/3 against Debian's Caddy (2.6, quic-go),
# the one Debian peer that speaks HTTP/3 (Debian's nginx 1.22, h2o 2.2 and
# haproxy 2.6 are built without QUIC), same machine, same run, same worker
# count, on /.healthz and a 4 KiB static file, swerver on epoll and
# io_uring. The load generator is bench/h3load (Debian's h2load has no
# HTTP/3), its ngtcp2 engine unless --engine curl: libcurl's costs more
# client CPU per request than swerver spends answering one. Prints a
# markdown table of medians of RUNS runs, swerver/Caddy ratios, server CPU
# per request and how busy the load generator was (near 100% means the
# client, not the server, set the pace: then the CPU-per-request ratio is
# the one to read).
#
#   bench/http3.sh [--runs N] [--duration S] [--warmup S] [--workers W]
#                  [--clients C] [--streams M] [--max-other PCT] [--engine E]
#
# Needs: caddy, openssl, curl, python3, taskset, libcurl4-gnutls-dev from
# bookworm-backports (scripts/install-deps.sh --bench). Builds swerver and
# bench/h3load with -O2 in a scratch directory unless SWERVER_BIN points at
# a build (then bench/h3load is taken from next to it, or H3LOAD_BIN).
set -euo pipefail

# CPU % of one core that other processes may use during a run before it is
# redone: a build or test suite on the same two cores moves req/s by 2x.
quiet=10
runs=3 duration=8 warmup=1 workers=1 clients=8 streams=16 engine=ngtcp2
usage="usage: $0 [--runs N] [--duration S] [--warmup S] [--workers W] [--clients C] [--streams M] [--max-other PCT] [--engine ngtcp2|curl]"
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--workers) workers=$2; shift 2 ;;
	--clients) clients=$2; shift 2 ;;
	--streams) streams=$2; shift 2 ;;
	--max-other) quiet=$2; shift 2 ;;
	--engine) engine=$2; shift 2 ;;
	*) echo "$usage" >&2; exit 64 ;;
	esac
done

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
need caddy openssl curl python3 taskset
split_cpus "$workers"

# An HTTP/3 answer from the port, or a complaint after 5 s.
wait_h3() { # port
	for _ in $(seq 100); do
		"$h3load" -e "$engine" -n 1 -T 500 "https://127.0.0.1:$1/.healthz" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "server on port $1 did not answer over HTTP/3" >&2
	return 1
}

start_swerver() { # backend port
	cat > "$work/swerver-$1.json" <<JSON
{ "server": { "listeners": [{ "address": "127.0.0.1", "port": $2, "use_tls": true,
                              "quic_enabled": true }],
              "workers": $workers, "io_backend": "$1", "static_root": "$work/www",
              "max_connections": 10000 },
  "tls": { "cert_path": "$work/cert.pem", "key_path": "$work/key.pem" },
  "quic": { "max_streams_bidi": $((streams > 100 ? streams : 100)) },
  "timeouts": { "idle_ms": 60000 }, "access_log": "off", "log": { "level": "warn" } }
JSON
	taskset -c "$server_cpus" "$build/swerver" -c "$work/swerver-$1.json" 2>>"$work/swerver.log" &
	pids+=($!)
	server_pid=$!
	wait_h3 "$2"
}

# Caddy answers /.healthz with "respond 200", as swerver does natively.
# Without SNI (curl sends none for an IP address) Caddy's QUIC handshake
# finds no certificate and closes: default_sni names the one it has.
start_caddy() { # port
	mkdir -p "$work/caddy"
	cat > "$work/Caddyfile" <<CONF
{
	admin off
	auto_https off
	default_sni localhost
	servers {
		protocols h1 h2 h3
	}
}
https://127.0.0.1:$1 {
	tls $work/cert.pem $work/key.pem
	root * $work/www
	respond /.healthz 200
	file_server
}
CONF
	HOME="$work/caddy" XDG_DATA_HOME="$work/caddy" XDG_CONFIG_HOME="$work/caddy" \
		GOMAXPROCS="$workers" taskset -c "$server_cpus" \
		caddy run --config "$work/Caddyfile" --adapter caddyfile >>"$work/caddy/log" 2>&1 &
	pids+=($!)
	server_pid=$!
	wait_h3 "$1"
}

# Every server must answer 200 with the same bytes over HTTP/3, or the
# numbers mean nothing. Writes "name body_bytes + header_bytes" of
# /.healthz (as curl sees it over HTTP/2; the servers answer it
# differently and the table should say how) to $work/notes.
check_same() { # name:port...
	local np name port want got hdr body
	want=$(sha256sum < "$work/www/4k.bin")
	for np in "$@"; do
		name=${np%:*} port=${np##*:}
		"$h3load" -e "$engine" -n 1 -o "$work/got.bin" "https://127.0.0.1:$port/4k.bin" >"$work/check.out" 2>&1 ||
			{ echo "$name: /4k.bin failed over HTTP/3" >&2; cat "$work/check.out" >&2; exit 1; }
		grep -q '^requests: .* 1 succeeded' "$work/check.out" ||
			{ echo "$name: /4k.bin did not answer 2xx over HTTP/3" >&2; exit 1; }
		got=$(sha256sum < "$work/got.bin")
		[ "$got" = "$want" ] || { echo "$name: /4k.bin body differs over HTTP/3" >&2; exit 1; }
		read -r hdr body < <(curl -sk --http2 -o /dev/null -w '%{size_header} %{size_download}\n' \
			"https://127.0.0.1:$port/.healthz")
		echo "$name $body + $hdr" >>"$work/notes"
	done
}

# One load run in the background; the server's CPU is sampled only once the
# warm-up is over. Sets lo_rps, lo_requests, lo_ticks, lo_errors (failed and
# errored requests, or 1 when the output cannot be parsed), lo_client (CPU %
# of one core the load generator used) and lo_other (CPU % of one core that
# neither used: something else disturbing the run). Not run in $(...), so
# the EXIT trap knows load_pid and can kill it.
load_once() { # url pid
	local t0 t1 b0 b1 c0 c1 rc=0
	taskset -c "$client_cpus" timeout $((warmup + duration + 30)) \
		"$h3load" -e "$engine" -c"$clients" -m"$streams" -D"$duration" -w"$warmup" "$1" >"$work/load.out" 2>&1 &
	load_pid=$!
	c0=$(child_ticks) b0=$(busy_ticks)
	sleep "$warmup"
	t0=$(cpu_ticks "$2")
	wait "$load_pid" || rc=$?
	t1=$(cpu_ticks "$2")
	b1=$(busy_ticks) c1=$(child_ticks)
	load_pid=
	lo_ticks=$((t1 - t0))
	read -r lo_client lo_other < <(awk -v b=$((b1 - b0)) -v c=$((c1 - c0)) -v s=$((t1 - t0)) \
		-v d="$duration" -v k="$warmup" -v hz="$hz" '
		BEGIN { o = (b - c - s * (d + k) / d) * 100 / (hz * (d + k))
			printf "%.0f %.0f\n", c * 100 / (hz * (d + k)), (o > 0 ? o : 0) }')
	read -r lo_rps lo_requests lo_errors < <(awk -v rc="$rc" '
		/^finished in/ { rps = $4 }
		/^requests:/ { done = $6; bad = $10 + $12 }
		END {
			err = (rps == "" || rc != 0) ? (bad > 0 ? bad : 1) : bad
			printf "%s %d %d\n", (rps == "" ? 0 : rps), done, err }' "$work/load.out")
}

# RUNS rounds over every server in turn, so a burst of outside load hits all
# servers alike, then the table row of medians (errors summed over runs).
measure_row() { # path port:pid...
	local path=$1 sp i try k_rps k_cpu k_cli k_other rps=() cpu=() cli=() err=() res=()
	shift
	for _ in $(seq "$runs"); do
		i=0
		for sp in "$@"; do
			i=$((i + 1))
			# A run that something else on the machine disturbed is redone,
			# twice at most, and the least disturbed one is kept.
			k_other=
			for try in 1 2 3; do
				load_once "https://127.0.0.1:${sp%:*}$path" "${sp#*:}"
				if [ "$lo_errors" -gt 0 ]; then
					echo "port ${sp%:*} $path: $lo_errors failed requests; h3load said:" >&2
					tail -n 8 "$work/load.out" >&2
				fi
				err[i]=$((${err[i]:-0} + lo_errors))
				if [ -z "$k_other" ] || [ "$lo_other" -lt "$k_other" ]; then
					k_other=$lo_other k_rps=$lo_rps k_cli=$lo_client
					k_cpu=$(awk -v t="$lo_ticks" -v n="$lo_requests" -v u="$us_per_tick" \
						'BEGIN { printf "%.2f", (n > 0 ? t * u / n : 0) }')
				fi
				[ "$lo_other" -le "$quiet" ] || [ "$try" = 3 ] && break
				echo "port ${sp%:*} $path: other processes used $lo_other% of a CPU, run again" >&2
			done
			if [ "$k_other" -gt "$other_max" ]; then other_max=$k_other; fi
			rps[i]+="$k_rps " cpu[i]+="$k_cpu " cli[i]+="$k_cli "
		done
	done
	for i in $(seq $#); do
		res+=("$(tr ' ' '\n' <<<"${rps[i]}" | median) $(tr ' ' '\n' <<<"${cpu[i]}" | median) ${err[i]} $(tr ' ' '\n' <<<"${cli[i]}" | median)")
	done
	row "$path" "${res[@]}"
}

# One table row from "rps cpu errors client%" for swerver epoll, io_uring
# and Caddy. Ratios: swerver's req/s over Caddy's; Caddy's CPU per request
# over swerver's (>1: swerver spends less).
row() { # path result...
	local path=$1
	shift
	printf '%s\n' "$@" | awk -v p="$path" '
		function cell(r, e) { return sprintf("%.0f", r) (e > 0 ? sprintf(" (%d errors)", e) : "") }
		function ratio(a, b) { return (b <= 0 || a <= 0) ? "n/a" : sprintf("%.2fx", a / b) }
		{ r[NR] = $1; c[NR] = $2; e[NR] = $3; l[NR] = $4 }
		END {
			printf "| %s | %s | %s | %s | %s / %s | %s / %s / %s | %s / %s | %s%% / %s%% / %s%% |\n",
				p, cell(r[1], e[1]), cell(r[2], e[2]), cell(r[3], e[3]),
				ratio(r[1], r[3]), ratio(r[2], r[3]), c[1], c[2], c[3],
				ratio(c[3], c[1]), ratio(c[3], c[2]), l[1], l[2], l[3] }'
}

other_max=0 # set by measure_row
build=$(build_swerver bench/h3load)
h3load=${H3LOAD_BIN:-$build/bench/h3load}
[ -x "$h3load" ] || { echo "no bench/h3load in $build: configure found no HTTP/3 or no libcurl" >&2; exit 1; }
make_site
port_epoll=$(free_port); start_swerver epoll "$port_epoll"; pid_epoll=$server_pid
port_uring=$(free_port); start_swerver io_uring "$port_uring"; pid_uring=$server_pid
port_caddy=$(free_port); start_caddy "$port_caddy"; pid_caddy=$server_pid
check_same "swerver-epoll:$port_epoll" "swerver-io_uring:$port_uring" "caddy:$port_caddy"

if [ "$engine" = curl ]; then
	h3stack="$(curl-config --version 2>/dev/null || echo libcurl) ($(pkg-config --modversion libngtcp2 2>/dev/null | sed 's/^/ngtcp2 /'))"
else
	h3stack="ngtcp2 $(pkg-config --modversion libngtcp2 2>/dev/null) + nghttp3 $(pkg-config --modversion libnghttp3 2>/dev/null)"
fi
echo "# swerver $("$build/swerver" -V | head -n 1 | cut -d' ' -f3) vs Caddy $(caddy version | cut -d' ' -f1), h3load engine $engine on $h3stack"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $ncpu CPUs, kernel $(uname -r)"
echo "# workers $workers (CPUs $server_cpus; Caddy GOMAXPROCS=$workers), h3load on CPUs $client_cpus, median of $runs runs of ${duration}s after ${warmup}s warm-up"
echo
echo "### HTTP/3: h3load -c$clients -m$streams -D$duration -w$warmup"
echo
awk '{ printf "%s%s %s-byte body + %s header bytes", (NR > 1 ? "; " : ""), $1, $2, $4 }
     END { print "." }' "$work/notes" | sed 's/^/\/.healthz as curl saw it over HTTP\/2: /'
echo
echo "| path | epoll req/s | io_uring req/s | Caddy req/s | epoll / io_uring vs Caddy | CPU µs/req epoll / io_uring / Caddy | CPU ratio epoll / io_uring | h3load CPU epoll / io_uring / Caddy |"
echo "| --- | ---: | ---: | ---: | --- | --- | --- | --- |"
for path in /.healthz /4k.bin; do
	measure_row "$path" "$port_epoll:$pid_epoll" "$port_uring:$pid_uring" "$port_caddy:$pid_caddy"
done
echo
echo "Other processes used at most $other_max% of a CPU during a kept run (beside the servers and h3load; a few % is noise, more makes req/s unreliable, CPU per request less so)."
