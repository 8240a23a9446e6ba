#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/http1.sh - swerver against Debian's nginx over HTTP/1.1, same machine,
# same run, same worker count: /.healthz, a 4 KiB and a 1 MiB static file,
# keep-alive and a new connection per request, swerver on epoll and io_uring.
# Prints a markdown table of medians of RUNS runs and swerver/nginx ratios.
#
#   bench/http1.sh [--runs N] [--duration S] [--connections C] [--workers W]
#
# Needs: wrk, nginx (scripts/install-deps.sh --bench). Builds swerver with
# -O2 in a scratch directory unless SWERVER_BIN points at a binary.
set -euo pipefail

runs=3 duration=10 conns=64 workers=1
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--workers) workers=$2; shift 2 ;;
	*) echo "usage: $0 [--runs N] [--duration S] [--connections C] [--workers W]" >&2; exit 64 ;;
	esac
done

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
need wrk nginx curl taskset python3
split_cpus "$workers"

# lib.sh's site, and a 1 MiB file.
site() {
	make_site
	head -c 1048576 /dev/urandom > "$work/www/1m.bin"
	chmod 644 "$work/www/1m.bin"
}

check_same() { # port...
	local path want got
	for path in /4k.bin /1m.bin; do
		want=$(sha256sum < "$work/www${path}")
		for port in "$@"; do
			got=$(curl -sf "http://127.0.0.1:$port$path" | sha256sum) ||
				{ echo "port $port: $path did not answer 200" >&2; exit 1; }
			[ "$got" = "$want" ] || { echo "port $port: $path body differs" >&2; exit 1; }
		done
	done
	for port in "$@"; do
		curl -sf -o /dev/null "http://127.0.0.1:$port/.healthz" ||
			{ echo "port $port: /.healthz did not answer 200" >&2; exit 1; }
	done
}

wait_port() {
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$1/.healthz" && return 0
		sleep 0.05
	done
	echo "server on port $1 did not come up" >&2
	return 1
}

start_swerver() { # backend port
	cat > "$work/swerver-$1.json" <<JSON
{ "server": { "listeners": [{ "address": "127.0.0.1", "port": $2 }], "workers": $workers,
              "io_backend": "$1", "static_root": "$work/www", "max_connections": 10000 },
  "timeouts": { "idle_ms": 60000 }, "access_log": "off", "log": { "level": "warn" } }
JSON
	taskset -c "$server_cpus" "$swerver" -c "$work/swerver-$1.json" 2>>"$work/swerver.log" &
	pids+=($!)
	server_pid=$!
	wait_port "$2"
}

start_nginx() { # port
	mkdir -p "$work/nginx"
	cat > "$work/nginx.conf" <<CONF
worker_processes $workers;
worker_cpu_affinity auto;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
daemon off;
events { worker_connections 10000; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path $work/nginx;
    proxy_temp_path $work/nginx;
    fastcgi_temp_path $work/nginx;
    uwsgi_temp_path $work/nginx;
    scgi_temp_path $work/nginx;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$1 reuseport;
        root $work/www;
        location = /.healthz { return 200; }
    }
}
CONF
	taskset -c "$server_cpus" nginx -c "$work/nginx.conf" -p "$work/nginx" 2>>"$work/nginx/stderr" &
	pids+=($!)
	server_pid=$!
	wait_port "$1"
}

# One wrk run: prints "req/s p99_ms".
wrk_once() { # url mode
	local extra=()
	[ "$2" = close ] && extra=(-H "Connection: close")
	taskset -c "$client_cpus" wrk -t1 -c"$conns" -d"${duration}s" --latency "${extra[@]}" "$1" 2>&1 |
		awk '/Requests\/sec/ { rps = $2 }
		     /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 }
		                else if (v ~ /ms$/) { sub(/ms/, "", v) }
		                else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }
		                p99 = v }
		     END { printf "%s %s\n", rps, p99 }'
}

# On two cores wrk saturates its own core before the server does, so
# req/s alone hides the server's cost: also report server CPU per request.
measure() { # port pid path mode -> "rps p99 cpu_us_per_request" medians
	local rps=() p99=() cpu=() out t0 t1 r
	for _ in $(seq "$runs"); do
		t0=$(cpu_ticks "$2")
		out=$(wrk_once "http://127.0.0.1:$1$3" "$4")
		t1=$(cpu_ticks "$2")
		r=${out% *}
		rps+=("$r") p99+=("${out#* }")
		cpu+=("$(awk -v t="$((t1 - t0))" -v r="$r" -v d="$duration" -v u="$us_per_tick" \
			'BEGIN { printf "%.2f", (r > 0 ? t * u / (r * d) : 0) }')")
	done
	echo "$(printf '%s\n' "${rps[@]}" | median) $(printf '%s\n' "${p99[@]}" | median)" \
	     "$(printf '%s\n' "${cpu[@]}" | median)"
}

swerver=$(build_swerver)/swerver
site
port_epoll=$(free_port); start_swerver epoll "$port_epoll"; pid_epoll=$server_pid
port_uring=$(free_port); start_swerver io_uring "$port_uring"; pid_uring=$server_pid
port_nginx=$(free_port); start_nginx "$port_nginx"; pid_nginx=$server_pid
check_same "$port_epoll" "$port_uring" "$port_nginx"

echo "# swerver $("$swerver" -V | head -n 1 | cut -d' ' -f3) vs $(nginx -v 2>&1 | cut -d' ' -f3)"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $ncpu CPUs, kernel $(uname -r)"
echo "# workers $workers (CPUs $server_cpus), wrk -t1 -c$conns -d${duration}s (CPUs $client_cpus), median of $runs"
echo
echo "req/s: median of $runs runs (swerver/nginx ratio); CPU: server CPU time per request in µs (nginx/swerver ratio: >1 means swerver spends less)."
echo
echo "| path | connection | epoll req/s | io_uring req/s | nginx req/s | epoll/nginx | io_uring/nginx | p99 ms epoll / io_uring / nginx | CPU µs/req epoll / io_uring / nginx | CPU ratio epoll / io_uring |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"
for path in /.healthz /4k.bin /1m.bin; do
	for mode in keepalive close; do
		read -r e_rps e_p99 e_cpu <<<"$(measure "$port_epoll" "$pid_epoll" "$path" "$mode")"
		read -r u_rps u_p99 u_cpu <<<"$(measure "$port_uring" "$pid_uring" "$path" "$mode")"
		read -r n_rps n_p99 n_cpu <<<"$(measure "$port_nginx" "$pid_nginx" "$path" "$mode")"
		awk -v p="$path" -v m="$mode" -v e="$e_rps" -v u="$u_rps" -v n="$n_rps" \
		    -v ep="$e_p99" -v up="$u_p99" -v np="$n_p99" \
		    -v ec="$e_cpu" -v uc="$u_cpu" -v nc="$n_cpu" 'BEGIN {
			printf "| %s | %s | %.0f | %.0f | %.0f | %.2fx | %.2fx | %s / %s / %s | %s / %s / %s | %.2fx / %.2fx |\n",
			       p, m, e, u, n, (n > 0 ? e / n : 0), (n > 0 ? u / n : 0), ep, up, np,
			       ec, uc, nc, (ec > 0 ? nc / ec : 0), (uc > 0 ? nc / uc : 0) }'
	done
done
