#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/gateway.sh - the per-request cost of the headers and cors policies:
# one swerver (one worker on CPU 0, epoll) proxies /open/ (no policy) and
# /gw/ (cors with listed and wildcard origins and credentials, headers with
# the security presets, a response set and remove, request set/add/remove)
# to one nginx backend that answers "ok"; wrk sends an allowed Origin to
# both and loads each route in turn, alternating, RUNS rounds. Prints the
# median req/s and swerver CPU µs per request of each route and their
# difference: what matching the origin and editing both heads cost.
#
#   bench/gateway.sh [--runs N] [--duration S] [--connections C]
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
        location / { default_type text/plain; add_header X-Powered-By bench; return 200 "ok"; }
    }
}
CONF
taskset -c "$client_cpus" nginx -c "$work/backend.conf" -p "$work/backend" 2>>"$work/backend.log" &
pids+=($!)

cat > "$work/swerver.json" <<JSON
{ "server": { "listeners": [{ "address": "127.0.0.1", "port": $port }], "workers": 1,
              "io_backend": "epoll", "max_connections": 10000 },
  "timeouts": { "idle_ms": 60000 }, "access_log": "off", "log": { "level": "warn" },
  "upstreams": [{ "name": "b", "servers": [{ "address": "127.0.0.1", "port": $port_backend }],
                  "connection_pool": { "max_idle": 128, "max_connections": 4096 } }],
  "routes": [
    { "path_prefix": "/open/", "upstream": "b" },
    { "path_prefix": "/gw/", "upstream": "b",
      "cors": { "origins": [ "https://www.example.com", "https://admin.example.com",
                             "https://*.apps.example.com" ],
                "methods": [ "GET", "POST", "PUT", "DELETE" ],
                "headers": [ "Authorization", "Content-Type" ],
                "expose_headers": [ "X-Total-Count" ], "credentials": true, "max_age_s": 600 },
      "headers": {
        "response": { "hsts": true, "nosniff": true, "frame_options": "DENY",
                      "referrer_policy": "no-referrer",
                      "content_security_policy": "default-src 'none'",
                      "set": [ { "name": "Cache-Control", "value": "no-store" } ],
                      "remove": [ "X-Powered-By" ] },
        "request": { "set": [ { "name": "X-Tenant", "value": "web" } ],
                     "add": [ { "name": "X-Trace", "value": "gw" } ],
                     "remove": [ "Cookie" ] } } } ] }
JSON
taskset -c "$server_cpus" "$swerver" -c "$work/swerver.json" 2>>"$work/swerver.log" &
pids+=($!)
server_pid=$!
origin='Origin: https://a.apps.example.com'
for _ in $(seq 400); do   # 20 s: a loaded machine starts slowly
	curl -sf -o /dev/null "http://127.0.0.1:$port/open/x" && break
	sleep 0.05
done
curl -s -D - -o /dev/null -H "$origin" "http://127.0.0.1:$port/gw/x" |
	grep -qi '^access-control-allow-origin: https://a.apps.example.com' ||
	{ echo "/gw/ did not answer with the CORS fields" >&2; cat "$work/swerver.log" >&2; exit 1; }

# One wrk run on a route: "req/s cpu-us-per-request non2xx".
measure() { # path
	local t0 t1 out reqs rps bad
	t0=$(cpu_ticks "$server_pid")
	out=$(taskset -c "$client_cpus" wrk -t1 -c"$conns" -d"${duration}s" -H "$origin" \
		-H 'Cookie: session=1' "http://127.0.0.1:$port$1")
	t1=$(cpu_ticks "$server_pid")
	reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
	rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
	bad=$(echo "$out" | awk '/Non-2xx/ { print $NF }')
	echo "$rps $(( (t1 - t0) * us_per_tick * 1000 / reqs ))e-3 ${bad:-0}"
}

: > "$work/open" ; : > "$work/gw"
for r in $(seq 1 "$runs"); do
	measure /open/x >> "$work/open"
	measure /gw/x >> "$work/gw"
	echo "round $r: open $(tail -1 "$work/open"), gw $(tail -1 "$work/gw")" >&2
done
col() { awk -v c="$2" '{ print $c }' "$work/$1" | median; }
o_rps=$(col open 1) g_rps=$(col gw 1) o_cpu=$(col open 2) g_cpu=$(col gw 2)
echo "| route | req/s (median of $runs) | swerver CPU µs/req | non-2xx |"
echo "| --- | ---: | ---: | ---: |"
echo "| /open/ (no policy) | $o_rps | $(printf %.2f "$o_cpu") | $(awk '{ s += $3 } END { print s }' "$work/open") |"
echo "| /gw/ (cors + headers) | $g_rps | $(printf %.2f "$g_cpu") | $(awk '{ s += $3 } END { print s }' "$work/gw") |"
echo "| difference | $(python3 -c "print(f'{($g_rps - $o_rps) / $o_rps * 100:+.1f} %')") | $(python3 -c "print(f'{$g_cpu - $o_cpu:+.2f}')") | |"
