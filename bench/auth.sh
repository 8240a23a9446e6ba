#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/auth.sh - the per-request cost of routes[].auth: the same swerver
# (one worker on CPU 0, epoll) proxies /open/ (no auth) and /key/ (api_key
# with 16 keys, the client's in X-API-Key) to one nginx backend that answers
# "ok"; wrk loads each route in turn, alternating, RUNS rounds. Prints the
# median req/s and swerver CPU µs per request of each route, and their
# difference: what the key check, the X-Consumer field and the stripped key
# cost a request.
#
#   bench/auth.sh [--runs N] [--duration S] [--connections C]
#
# Needs: wrk, nginx, curl, taskset (scripts/install-deps.sh --bench). Builds
# swerver with -O2 in a scratch directory unless SWERVER_BIN points at one.
set -euo pipefail

runs=5 duration=8 conns=64
usage="usage: $0 [--runs N] [--duration S] [--connections C]"
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	*) echo "$usage" >&2; exit 64 ;;
	esac
done

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
need wrk nginx curl taskset python3
configure_flags=--disable-http3
split_cpus 1
swerver="$(build_swerver)/swerver"

port_backend=$(free_port)
port=$(free_port)
mkdir -p "$work/backend"
cat > "$work/backend.conf" <<CONF
worker_processes 1;
pid $work/backend/nginx.pid;
error_log $work/backend/error.log warn;
daemon off;
events { worker_connections 10000; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $work/backend;
    proxy_temp_path $work/backend;
    fastcgi_temp_path $work/backend;
    uwsgi_temp_path $work/backend;
    scgi_temp_path $work/backend;
    server {
        listen 127.0.0.1:$port_backend reuseport backlog=4096;
        location / { default_type text/plain; return 200 "ok"; }
    }
}
CONF
taskset -c "$client_cpus" nginx -c "$work/backend.conf" -p "$work/backend" 2>>"$work/backend.log" &
pids+=($!)

# 16 keys: a request's key is compared with every one of them (constant time).
keys=""
for i in $(seq 1 16); do
	keys="$keys{ \"name\": \"c$i\", \"key\": \"bench-key-$i-0123456789abcdef\" },"
done
keys=${keys%,}
cat > "$work/swerver.json" <<JSON
{ "server": { "listeners": [{ "address": "127.0.0.1", "port": $port }], "workers": 1,
              "io_backend": "epoll", "max_connections": 10000 },
  "timeouts": { "idle_ms": 60000 }, "access_log": "off", "log": { "level": "warn" },
  "upstreams": [{ "name": "b", "servers": [{ "address": "127.0.0.1", "port": $port_backend }],
                  "connection_pool": { "max_idle": 128, "max_connections": 4096 } }],
  "routes": [
    { "path_prefix": "/open/", "upstream": "b" },
    { "path_prefix": "/key/", "upstream": "b", "auth": { "api_key": { "keys": [ $keys ] } } } ] }
JSON
taskset -c "$server_cpus" "$swerver" -c "$work/swerver.json" 2>>"$work/swerver.log" &
pids+=($!)
server_pid=$!
key='X-API-Key: bench-key-16-0123456789abcdef'
for _ in $(seq 100); do
	curl -sf -o /dev/null "http://127.0.0.1:$port/open/x" && break
	sleep 0.05
done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/key/x")" = 401 ] ||
	{ echo "/key/ without a key was not refused" >&2; exit 1; }
[ "$(curl -s -H "$key" "http://127.0.0.1:$port/key/x")" = ok ] ||
	{ echo "/key/ with a key did not pass" >&2; exit 1; }

# One wrk run on a route: "req/s cpu-us-per-request non2xx".
measure() { # path [header]
	local t0 t1 out reqs rps bad
	t0=$(cpu_ticks "$server_pid")
	if [ -n "${2:-}" ]; then
		out=$(taskset -c "$client_cpus" wrk -t1 -c"$conns" -d"${duration}s" -H "$2" "http://127.0.0.1:$port$1")
	else
		out=$(taskset -c "$client_cpus" wrk -t1 -c"$conns" -d"${duration}s" "http://127.0.0.1:$port$1")
	fi
	t1=$(cpu_ticks "$server_pid")
	reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
	rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
	bad=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
	echo "$rps $(( (t1 - t0) * us_per_tick * 1000 / reqs ))e-3 ${bad:-0}"
}

: > "$work/open" ; : > "$work/key"
for r in $(seq 1 "$runs"); do
	measure /open/x >> "$work/open"
	measure /key/x "$key" >> "$work/key"
	echo "round $r: open $(tail -1 "$work/open"), key $(tail -1 "$work/key")" >&2
done
col() { awk -v c="$2" '{ print $c }' "$work/$1" | median; }
o_rps=$(col open 1) k_rps=$(col key 1) o_cpu=$(col open 2) k_cpu=$(col key 2)
echo "| route | req/s (median of $runs) | swerver CPU µs/req | non-2xx |"
echo "| --- | ---: | ---: | ---: |"
echo "| /open/ (no auth) | $o_rps | $(printf %.2f "$o_cpu") | $(awk '{ s += $3 } END { print s }' "$work/open") |"
echo "| /key/ (api_key, 16 keys) | $k_rps | $(printf %.2f "$k_cpu") | $(awk '{ s += $3 } END { print s }' "$work/key") |"
echo "| difference | $(python3 -c "print(f'{($k_rps - $o_rps) / $o_rps * 100:+.1f} %')") | $(python3 -c "print(f'{$k_cpu - $o_cpu:+.2f}')") | |"
