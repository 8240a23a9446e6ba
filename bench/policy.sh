#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/policy.sh - what the policy chain costs a proxied request: two
# swerver binaries (OLD, before the chain; NEW, with it) in the same run,
# alternating, each proxying "/" to one nginx backend with a route that has
# no policy and one with routes[].rate_limit (a policy on NEW).  wrk keeps
# C keep-alive connections; the result is requests/s and swerver's CPU
# time per request (utime + stime from /proc/PID/stat over the run).
#
#   bench/policy.sh OLD_BINARY NEW_BINARY [runs] [seconds] [connections]
#
# swerver runs on CPU 0 (one worker), wrk and nginx on CPU 1.
set -euo pipefail
old=$1 new=$2 runs=${3:-3} secs=${4:-10} conns=${5:-32}
work=$(mktemp -d /tmp/swbench-policy.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
hz=$(getconf CLK_TCK)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

backend=$(free_port)
mkdir -p "$work/www" "$work/ng"
chmod 755 "$work" "$work/www"   # nginx's workers run as another user
printf 'hello\n' > "$work/www/tiny"
chmod 644 "$work/www/tiny"
cat > "$work/ng/nginx.conf" <<CONF
pid $work/ng/nginx.pid;
error_log $work/ng/error.log;
worker_processes 1;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/ng; proxy_temp_path $work/ng; fastcgi_temp_path $work/ng;
  uwsgi_temp_path $work/ng; scgi_temp_path $work/ng;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$backend; root $work/www; }
}
CONF
taskset -c 1 nginx -c "$work/ng/nginx.conf" -p "$work/ng"
sleep 0.3
pids+=("$(cat "$work/ng/nginx.pid")")

# run BINARY LABEL: prints "LABEL path req/s cpu_us_per_req" for / and /rl/.
run() {
	local bin=$1 label=$2 port out pid t0 t1 reqs
	port=$(free_port)
	cat > "$work/sw.json" <<CONF
{"server": {"listeners": [{"address": "127.0.0.1", "port": $port}], "workers": 1, "io_backend": "epoll"},
 "log": {"level": "error"},
 "upstreams": [{"name": "b", "servers": [{"address": "127.0.0.1", "port": $backend}]}],
 "routes": [{"path_prefix": "/rl/", "upstream": "b", "rewrite_pattern": "/rl/", "rewrite_replacement": "/",
             "rate_limit": {"requests_per_second": 1000000000}},
            {"path_prefix": "/", "upstream": "b"}]}
CONF
	taskset -c 0 "$bin" -c "$work/sw.json" 2>"$work/sw.log" &
	pid=$!
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/tiny" && break; sleep 0.05; done
	for path in /tiny /rl/tiny; do
		taskset -c 1 wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$port$path" >/dev/null
		t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
		out=$(taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" "http://127.0.0.1:$port$path")
		t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
		reqs=$(echo "$out" | awk '/requests in/ {print $1}')
		if echo "$out" | grep -q 'Non-2xx'; then echo "$label $path: non-2xx answers" >&2; fi
		awk -v l="$label" -v p="$path" -v r="$reqs" -v s="$secs" -v d=$((t1 - t0)) -v hz="$hz" \
			'BEGIN { printf "%s %s %.0f %.2f\n", l, p, r / s, d * 1e6 / hz / r }'
	done
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

for i in $(seq "$runs"); do
	run "$old" old
	run "$new" new
done
