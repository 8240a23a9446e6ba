#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/proxy.sh - swerver as a reverse proxy against Debian's nginx and
# haproxy, same machine, same run, same backend, one worker/thread each:
# a tiny response and a 4 KiB file through a keep-alive connection pool to
# one backend (a separate nginx instance), loaded with HTTP/1.1 keep-alive
# (wrk) and cleartext HTTP/2 with prior knowledge (h2load). swerver runs on
# epoll and on io_uring. Prints a markdown table of medians of RUNS runs,
# swerver/nginx and swerver/haproxy ratios and proxy CPU per request.
#
#   bench/proxy.sh [--runs N] [--duration S] [--connections C] [--workers W]
#                  [--h2-connections C] [--streams M] [--warmup S]
#                  [--pool N] [--backend-cpus LIST] [--only h1|h2]
#                  [--max-other PCT]
#
# h2load keeps connections x streams requests in flight (512 by default),
# more than an idle pool of 64 holds: every proxy then closes and reopens
# upstream connections, which the "upstream connects" column counts;
# --pool 512 measures HTTP/2 with the upstream connections reused.
#
# Needs: wrk, h2load (nghttp2-client), nginx, haproxy, curl, taskset
# (scripts/install-deps.sh --bench). Builds swerver with -O2 in a scratch
# directory unless SWERVER_BIN points at a binary.
set -euo pipefail

runs=3 duration=10 conns=64 workers=1 h2conns=16 streams=32 warmup=1 pool=64
backend_cpus='' only=''
# CPU % of one core that other processes may use during a run before it is
# redone: a build or another benchmark on the same cores moves req/s by 2x.
quiet=10
usage="usage: $0 [--runs N] [--duration S] [--connections C] [--workers W] [--h2-connections C] [--streams M] [--warmup S] [--pool N] [--backend-cpus LIST] [--only h1|h2] [--max-other PCT]"
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--workers) workers=$2; shift 2 ;;
	--h2-connections) h2conns=$2; shift 2 ;;
	--streams) streams=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--pool) pool=$2; shift 2 ;;
	--backend-cpus) backend_cpus=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--max-other) quiet=$2; shift 2 ;;
	*) echo "$usage" >&2; exit 64 ;;
	esac
done
case $only in "" | h1 | h2) ;; *) echo "$usage" >&2; exit 64 ;; esac

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
need wrk h2load nginx haproxy curl taskset python3
# No HTTP/3: the proxy path does not need it.
configure_flags=--disable-http3

# The proxies get the first CPUs, the load generator the rest. The backend
# shares the load generator's CPUs by default: on the 2-CPU machine this is
# written for, the proxy under test then has a core of its own, and the
# backend's cost (the same for every proxy) does not eat into it.
split_cpus "$workers"
[ -n "$backend_cpus" ] || backend_cpus=$client_cpus

# lib.sh's site, and the backend's directory.
site() {
	make_site
	mkdir -p "$work/backend"
}

wait_port() { # port
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$1/tiny" && return 0
		sleep 0.05
	done
	echo "server on port $1 did not come up" >&2
	return 1
}

# Temp paths every nginx instance needs to stay out of /var/lib/nginx.
nginx_common() { # dir
	cat <<CONF
pid $1/nginx.pid;
error_log $1/error.log warn;
daemon off;
events { worker_connections 10000; }
CONF
}

nginx_http_common() { # dir
	cat <<CONF
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path $1;
    proxy_temp_path $1;
    fastcgi_temp_path $1;
    uwsgi_temp_path $1;
    scgi_temp_path $1;
CONF
}

# The backend: nginx with one worker, sendfile, a 2-byte "ok" at /tiny and
# the 4 KiB file. Every proxy forwards to this one instance.
start_backend() { # port
	{
		echo "worker_processes 1;"
		nginx_common "$work/backend"
		echo "http {"
		nginx_http_common "$work/backend"
		cat <<CONF
    sendfile on;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$1 reuseport backlog=4096;
        root $work/www;
        location = /tiny { default_type text/plain; return 200 "ok"; }
        location = /status { stub_status; }
    }
}
CONF
	} > "$work/backend.conf"
	taskset -c "$backend_cpus" nginx -c "$work/backend.conf" -p "$work/backend" 2>>"$work/backend/stderr" &
	pids+=($!)
	backend_pid=$!
	wait_port "$1"
}

start_swerver() { # io_backend port
	# max_connections well above the most concurrent requests (h2load's
	# connections x streams): at the limit swerver answers 503 rather than
	# queueing, and nginx and haproxy open as many as they need.
	cat > "$work/swerver-$1.json" <<JSON
{ "server": { "listeners": [{ "address": "127.0.0.1", "port": $2 }], "workers": $workers,
              "io_backend": "$1", "max_connections": 10000 },
  "timeouts": { "idle_ms": 60000 }, "access_log": "off", "log": { "level": "warn" },
  "upstreams": [{ "name": "b", "servers": [{ "address": "127.0.0.1", "port": $port_backend }],
                  "connection_pool": { "max_idle": $pool, "max_connections": 4096 } }],
  "routes": [{ "path_prefix": "/", "upstream": "b" }] }
JSON
	taskset -c "$server_cpus" "$swerver" -c "$work/swerver-$1.json" 2>>"$work/swerver.log" &
	pids+=($!)
	server_pid=$!
	wait_port "$2"
}

# nginx 1.22: "http2" on a plaintext listen makes it HTTP/2-only (prior
# knowledge), so HTTP/1.1 and h2c get a port each.
start_nginx() { # port h2c-port
	mkdir -p "$work/nginx"
	{
		echo "worker_processes $workers;"
		echo "worker_cpu_affinity auto;"
		nginx_common "$work/nginx"
		echo "http {"
		nginx_http_common "$work/nginx"
		cat <<CONF
    upstream b {
        server 127.0.0.1:$port_backend;
        keepalive $pool;
        keepalive_requests 1000000;
        keepalive_timeout 60s;
    }
    server {
        listen 127.0.0.1:$1 reuseport;
        listen 127.0.0.1:$2 http2 reuseport;
        location / {
            proxy_pass http://b;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
	} > "$work/nginx.conf"
	taskset -c "$server_cpus" nginx -c "$work/nginx.conf" -p "$work/nginx" 2>>"$work/nginx/stderr" &
	pids+=($!)
	server_pid=$!
	wait_port "$1"
}

# haproxy: one thread, no logs, idle server connections shared by all
# clients (http-reuse always), at most POOL of them kept idle.
start_haproxy() { # port h2c-port
	cat > "$work/haproxy.cfg" <<CONF
global
    nbthread $workers
    maxconn 8000
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    http-reuse always
frontend fe
    bind 127.0.0.1:$1
    bind 127.0.0.1:$2 proto h2
    default_backend be
backend be
    server s1 127.0.0.1:$port_backend pool-max-conn $pool
CONF
	taskset -c "$server_cpus" haproxy -f "$work/haproxy.cfg" -db >>"$work/haproxy.log" 2>&1 &
	pids+=($!)
	server_pid=$!
	wait_port "$1"
}

# Every proxy must answer 200 with the backend's bytes over the protocol it
# is measured on, or the numbers mean nothing.
check_same() { # name h1-port h2c-port
	local want got v code
	want=$(sha256sum < "$work/www/4k.bin")
	got=$(curl -sf --http1.1 "http://127.0.0.1:$2/4k.bin" | sha256sum) ||
		{ echo "$1: /4k.bin did not answer 200 over HTTP/1.1" >&2; exit 1; }
	[ "$got" = "$want" ] || { echo "$1: /4k.bin body differs over HTTP/1.1" >&2; exit 1; }
	[ "$(curl -sf --http1.1 "http://127.0.0.1:$2/tiny")" = ok ] ||
		{ echo "$1: /tiny is not 200 ok over HTTP/1.1" >&2; exit 1; }
	got=$(curl -sf --http2-prior-knowledge "http://127.0.0.1:$3/4k.bin" | sha256sum) ||
		{ echo "$1: /4k.bin did not answer 200 over h2c" >&2; exit 1; }
	[ "$got" = "$want" ] || { echo "$1: /4k.bin body differs over h2c" >&2; exit 1; }
	read -r v code < <(curl -s --http2-prior-knowledge -o /dev/null \
		-w '%{http_version} %{http_code}\n' "http://127.0.0.1:$3/tiny")
	[ "$v $code" = "2 200" ] || { echo "$1: /tiny answered HTTP/$v $code over h2c" >&2; exit 1; }
}

# Response header bytes of /tiny through a proxy: the proxies add and drop
# different fields, and the table should say how much they send.
header_bytes() { # port
	curl -s --http1.1 -o /dev/null -w '%{size_header}' "http://127.0.0.1:$1/tiny"
}

# User + system ticks of all CPUs, replacing lib.sh's: interrupt time is
# left out here, since the kernel's loopback TCP work of proxy, backend and
# load generator all runs there and is charged to none of them.
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 }' /proc/stat; }
# Connections the backend has accepted so far (nginx stub_status): how
# often a proxy opens a new upstream connection instead of reusing one.
accepts() { curl -s "http://127.0.0.1:$port_backend/status" | awk 'NR == 3 { print $1 }'; }

# Before a run, wait (two minutes at most) for a second in which the machine
# is idle but for QUIET % of a CPU: everything here is idle between runs, so
# what is busy then is someone else, e.g. a build.
settle() {
	local b0 b1
	for _ in $(seq 120); do
		b0=$(busy_ticks)
		sleep 1
		b1=$(busy_ticks)
		[ $(((b1 - b0) * 100 / hz)) -le "$quiet" ] && return 0
	done
	echo "the machine stayed busy for two minutes; running anyway" >&2
}

# One load run in the background; the proxy's and the backend's CPU are
# sampled once the warm-up is over, so they cover the window whose requests
# are counted. Sets lo_rps, lo_requests, lo_ticks (proxy), lo_bticks
# (backend), lo_accepts (connections the backend accepted, warm-up
# included) and lo_errors: failed, timed-out and non-2xx requests, or 1 when
# the output cannot be parsed. Sets lo_other: CPU % of one core that neither
# the proxy, the backend nor the load generator used. Not run in $(...), so
# the EXIT trap knows load_pid and can kill it.
load_once() { # proto url pid
	local t0 t1 k0 k1 b0 b1 c0 c1 a0 a1 skip=0 rc=0
	settle
	a0=$(accepts)
	if [ "$1" = h2 ]; then
		taskset -c "$client_cpus" timeout $((warmup + duration + 30)) \
			h2load -c"$h2conns" -m"$streams" -t1 -D"$duration" --warm-up-time="$warmup" \
			"$2" >"$work/load.out" 2>&1 &
		skip=$warmup
	else
		taskset -c "$client_cpus" timeout $((duration + 30)) \
			wrk -t1 -c"$conns" -d"${duration}s" "$2" >"$work/load.out" 2>&1 &
	fi
	load_pid=$!
	c0=$(child_ticks) b0=$(busy_ticks)
	sleep "$skip"
	t0=$(cpu_ticks "$3") k0=$(cpu_ticks "$backend_pid")
	wait "$load_pid" || rc=$?
	t1=$(cpu_ticks "$3") k1=$(cpu_ticks "$backend_pid")
	b1=$(busy_ticks) c1=$(child_ticks)
	load_pid=
	a1=$(accepts)
	lo_ticks=$((t1 - t0)) lo_bticks=$((k1 - k0))
	# Less the connection that asked for a1.
	lo_accepts=$((a1 - a0 - 1))
	# Over the whole run, warm-up included: the servers' warm-up share is
	# estimated from their rate in the measured window.
	lo_other=$(awk -v b=$((b1 - b0)) -v c=$((c1 - c0)) -v s=$((t1 - t0 + k1 - k0)) \
		-v d="$duration" -v k="$skip" -v hz="$hz" '
		BEGIN { o = (b - c - s * (d + k) / d) * 100 / (hz * (d + k))
			printf "%.0f", (o > 0 ? o : 0) }')
	if [ "$1" = h2 ]; then
		read -r lo_rps lo_requests lo_errors < <(awk -v rc="$rc" '
			/^finished in/ { rps = $4 }
			/^requests:/ { done = $6; ok = $8; failed = $10 }
			/^status codes:/ { bad = $7 + $9 }
			/^Application protocol:/ { alpn = $3 }
			END {
				# A stream whose headers came in the warm-up and its end after
				# it is done but in no status count: compare done with
				# succeeded, not with the 2xx count.
				if (failed > done - ok) bad += failed; else bad += done - ok
				err = (rps == "" || alpn != "h2c" || rc != 0) ? (bad > 0 ? bad : 1) : bad
				printf "%s %d %d\n", (rps == "" ? 0 : rps), done, err }' "$work/load.out")
	else
		read -r lo_rps lo_requests lo_errors < <(awk -v rc="$rc" '
			/requests in/ { n = $1 }
			/^Requests\/sec/ { rps = $2 }
			/^ +Socket errors/ { gsub(/,/, ""); bad += $4 + $6 + $8 + $10 }
			/^ +Non-2xx/ { bad += $NF }
			END {
				err = (rps == "" || rc != 0) ? 1 : bad
				printf "%s %d %d\n", (rps == "" ? 0 : rps), n, err }' "$work/load.out")
	fi
}

per_req() { # ticks requests
	awk -v t="$1" -v n="$2" -v u="$us_per_tick" 'BEGIN { printf "%.2f", (n > 0 ? t * u / n : 0) }'
}

# RUNS rounds over every proxy in turn, so a burst of outside load hits all
# of them alike rather than every run of one, then the table row of medians
# (errors summed over the runs).
measure_row() { # proto path port:pid...
	local proto=$1 path=$2 sp i try rps=() cpu=() bcpu=() conn=() err=() res=()
	shift 2
	for _ in $(seq "$runs"); do
		i=0
		for sp in "$@"; do
			i=$((i + 1))
			# A run that something else on the machine disturbed is redone,
			# twice at most; the table reports what the kept runs saw.
			for try in 1 2 3; do
				load_once "$proto" "http://127.0.0.1:${sp%:*}$path" "${sp#*:}"
				[ "$lo_other" -le "$quiet" ] || [ "$try" = 3 ] && break
				echo "$proto port ${sp%:*} $path: other processes used $lo_other% of a CPU, run again" >&2
			done
			if [ "$lo_other" -gt "$other_max" ]; then other_max=$lo_other; fi
			if [ "$lo_errors" -gt 0 ]; then
				echo "$proto port ${sp%:*} $path: $lo_errors failed requests; load generator output:" >&2
				tail -n 12 "$work/load.out" >&2
			fi
			rps[i]+="$lo_rps " err[i]=$((${err[i]:-0} + lo_errors))
			cpu[i]+="$(per_req "$lo_ticks" "$lo_requests") "
			bcpu[i]+="$(per_req "$lo_bticks" "$lo_requests") "
			conn[i]+="$(awk -v a="$lo_accepts" -v n="$lo_requests" \
				'BEGIN { printf "%.1f", (n > 0 ? a * 1000 / n : 0) }') "
		done
	done
	for i in $(seq $#); do
		res+=("$(tr ' ' '\n' <<<"${rps[i]}" | median) $(tr ' ' '\n' <<<"${cpu[i]}" | median) ${err[i]} $(tr ' ' '\n' <<<"${bcpu[i]}" | median) $(tr ' ' '\n' <<<"${conn[i]}" | median)")
	done
	row "$proto" "$path" "${res[@]}"
}

# One table row from "rps cpu errors backend_cpu connects" for swerver epoll,
# swerver io_uring, nginx, haproxy. Also appends to $work/short the rows
# where swerver is under the 1.2x-nginx target.
row() { # proto path result...
	local proto=$1 path=$2
	shift 2
	printf '%s\n' "$@" | awk -v p="$path" -v l="$proto" -v short="$work/short" '
		function cell(r, e) { return sprintf("%.0f", r) (e > 0 ? sprintf(" (%d errors)", e) : "") }
		function ratio(a, b) { return (b <= 0 || a <= 0) ? "n/a" : sprintf("%.2fx", a / b) }
		{ r[NR] = $1; c[NR] = $2; e[NR] = $3; k[NR] = $4; a[NR] = $5 }
		END {
			line = "| " l " | " p
			for (i = 1; i <= 4; i++) line = line " | " cell(r[i], e[i])
			line = line " | " ratio(r[1], r[3]) " / " ratio(r[2], r[3])
			line = line " | " ratio(r[1], r[4]) " / " ratio(r[2], r[4]) " | "
			for (i = 1; i <= 4; i++) line = line (i > 1 ? " / " : "") c[i]
			line = line " | " ratio(c[3], c[1]) " / " ratio(c[3], c[2]) " | "
			for (i = 1; i <= 4; i++) line = line (i > 1 ? " / " : "") k[i]
			line = line " | "
			for (i = 1; i <= 4; i++) line = line (i > 1 ? " / " : "") a[i]
			print line " |"
			for (i = 1; i <= 2; i++)
				if (r[3] <= 0 || r[i] / r[3] < 1.2)
					printf "%s %s %s: %s req/s vs nginx\n", l, p, (i == 1 ? "epoll" : "io_uring"),
					       ratio(r[i], r[3]) >> short }'
}

other_max=0 # set by measure_row
swerver=$(build_swerver)/swerver
site
port_backend=$(free_port); start_backend "$port_backend"
port_epoll=$(free_port); start_swerver epoll "$port_epoll"; pid_epoll=$server_pid
port_uring=$(free_port); start_swerver io_uring "$port_uring"; pid_uring=$server_pid
port_nginx=$(free_port) port_nginx2=$(free_port)
start_nginx "$port_nginx" "$port_nginx2"; pid_nginx=$server_pid
port_haproxy=$(free_port) port_haproxy2=$(free_port)
start_haproxy "$port_haproxy" "$port_haproxy2"; pid_haproxy=$server_pid

# swerver serves HTTP/1.1 and h2c prior knowledge on the same plain port.
check_same swerver-epoll "$port_epoll" "$port_epoll"
check_same swerver-io_uring "$port_uring" "$port_uring"
check_same nginx "$port_nginx" "$port_nginx2"
check_same haproxy "$port_haproxy" "$port_haproxy2"

echo "# swerver $("$swerver" -V | head -n 1 | cut -d' ' -f3) vs $(nginx -v 2>&1 | cut -d' ' -f3) and haproxy/$(haproxy -v | awk 'NR == 1 { print $3 }'), backend $(nginx -v 2>&1 | cut -d' ' -f3); $(h2load --version | head -n 1), wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $ncpu CPUs, kernel $(uname -r)"
echo "# proxies: $workers worker/thread on CPUs $server_cpus; backend nginx (1 worker) on CPUs $backend_cpus; load generator on CPUs $client_cpus; median of $runs runs of ${duration}s; idle upstream pool $pool"
echo
echo "Backend: one nginx worker serving /tiny (\`return 200 \"ok\"\`) and /4k.bin (sendfile); every proxy keeps idle HTTP/1.1 connections to it (nginx \`keepalive $pool\`, haproxy \`http-reuse always\` + \`pool-max-conn $pool\`, swerver \`connection_pool.max_idle $pool\`)."
echo "swerver adds X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, Via and X-Request-Id upstream (and X-Request-Id to the client); nginx and haproxy as configured add none. /tiny response header bytes over HTTP/1.1: swerver $(header_bytes "$port_epoll"), nginx $(header_bytes "$port_nginx"), haproxy $(header_bytes "$port_haproxy")."
echo
echo "req/s: median of $runs runs; ratio: swerver / peer. CPU: proxy CPU time (user + system, all its processes and threads) per request in µs; CPU ratio: nginx's / swerver's (>1 means swerver spends less). Backend CPU µs/req: what each proxy's upstream traffic costs the backend; upstream connects: connections the backend accepted per 1000 requests (warm-up included; 0 = every request reused a pooled connection)."
echo
echo "| load | path | epoll req/s | io_uring req/s | nginx req/s | haproxy req/s | vs nginx epoll / io_uring | vs haproxy epoll / io_uring | proxy CPU µs/req epoll / io_uring / nginx / haproxy | CPU ratio vs nginx epoll / io_uring | backend CPU µs/req epoll / io_uring / nginx / haproxy | upstream connects per 1k req epoll / io_uring / nginx / haproxy |"
echo "| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- | --- |"
: > "$work/short"
if [ "$only" != h2 ]; then
	for path in /tiny /4k.bin; do
		measure_row h1 "$path" "$port_epoll:$pid_epoll" "$port_uring:$pid_uring" \
			"$port_nginx:$pid_nginx" "$port_haproxy:$pid_haproxy"
	done
fi
if [ "$only" != h1 ]; then
	for path in /tiny /4k.bin; do
		measure_row h2 "$path" "$port_epoll:$pid_epoll" "$port_uring:$pid_uring" \
			"$port_nginx2:$pid_nginx" "$port_haproxy2:$pid_haproxy"
	done
fi
echo
echo "h1: wrk -t1 -c$conns -d${duration}s, keep-alive. h2: h2load -c$h2conns -m$streams -t1 -D$duration --warm-up-time=$warmup, cleartext HTTP/2 with prior knowledge (h2c); the proxies speak HTTP/1.1 to the backend."
if [ "$only" != h1 ] && [ $((h2conns * streams)) -gt "$pool" ]; then
	echo
	echo "h2 keeps $((h2conns * streams)) requests in flight, more than the $pool idle upstream connections each proxy keeps: they all close and reopen upstream connections (upstream connects column), so the h2 rows measure that too. --pool $((h2conns * streams)) measures them with the connections reused."
fi
echo
echo "Other processes used at most $other_max% of a CPU during any run (beside the proxy, backend and load generator; a few % is noise)."
echo
if [ -s "$work/short" ]; then
	echo "Below the 1.2x-nginx req/s target:"
	sed 's/^/* /' "$work/short"
else
	echo "Every row is at or above 1.2x nginx's req/s."
fi
