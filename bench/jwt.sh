#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/jwt.sh - what routes[].auth.jwt costs per request: the same proxy
# route to tests/backend/origin without auth, with an ES256 jwt (the
# per-worker cache of verified tokens on, so every request after the first
# is a hit: one token, as wrk sends it) and with the cache off (every
# request verifies the signature). HTTP/1.1 keep-alive with wrk, one
# worker on CPU 0, wrk and the origin on the others. Prints a markdown
# table: req/s and swerver CPU µs per request, medians of RUNS runs.
#
#   bench/jwt.sh [--runs N] [--duration S] [--connections C]
#
# Needs: wrk, curl, taskset (scripts/install-deps.sh --bench). Builds
# swerver, bench/jwt_verify (the token) and tests/backend/origin with -O2
# in a scratch directory unless SWERVER_BIN points at a built tree's binary.
set -euo pipefail

runs=3 duration=8 conns=16
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
need wrk curl taskset python3
split_cpus 1
build=$(build_swerver bench/jwt_verify tests/backend/origin)
if [ -n "${SWERVER_BIN:-}" ]; then
	make -C "$build" bench/jwt_verify tests/backend/origin >/dev/null
fi
swerver=$build/swerver

token=$("$build/bench/jwt_verify" --mint "$work/es256.pem" bench-client)
oport=$(free_port)
taskset -c "$client_cpus" "$build/tests/backend/origin" --port "$oport" --name o >/dev/null 2>&1 &
pids+=($!)
port=$(free_port)
route() { # prefix auth
	printf '{"path_prefix": "%s", "upstream": "o", "rewrite_pattern": "%s", "rewrite_replacement": "/"%s}' "$1" "$1" "$2"
}
jwt='"keys": [{"public_key_file": "'"$work"'/es256.pem", "algorithms": ["ES256"]}]'
cat > "$work/swerver.json" <<JSON
{ "server": { "listeners": [ {"address": "127.0.0.1", "port": $port} ], "workers": 1 },
  "access_log": "off",
  "upstreams": [ {"name": "o", "servers": [ {"address": "127.0.0.1", "port": $oport} ]} ],
  "routes": [ $(route /open ''), $(route /jwt ", \"auth\": {\"jwt\": {$jwt}}"),
              $(route /jwt-nocache ", \"auth\": {\"jwt\": {$jwt, \"cache_size\": 0}}") ] }
JSON
taskset -c "$server_cpus" "$swerver" -c "$work/swerver.json" >"$work/swerver.log" 2>&1 &
spid=$!
pids+=("$spid")
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$port/.ready" >/dev/null 2>&1 && break
	sleep 0.1
done
for path in /open/echo /jwt/echo /jwt-nocache/echo; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path")
	[ "$code" = 200 ] || { echo "$path answered $code" >&2; cat "$work/swerver.log" >&2; exit 1; }
done

echo "| route | req/s | swerver CPU µs/req |"
echo "| --- | ---: | ---: |"
for path in /open/echo /jwt/echo /jwt-nocache/echo; do
	rates=() cpus=()
	for _ in $(seq "$runs"); do
		t0=$(cpu_ticks "$spid")
		taskset -c "$client_cpus" wrk -t1 -c"$conns" -d"${duration}s" \
			-H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" >"$work/load.out" 2>&1
		t1=$(cpu_ticks "$spid")
		reqs=$(awk '/requests in/ { print $1 }' "$work/load.out")
		non2xx=$(awk '/Non-2xx/ { print $NF }' "$work/load.out")
		[ -z "$non2xx" ] || { echo "$path: $non2xx non-2xx answers" >&2; exit 1; }
		rates+=("$(awk -v r="$reqs" -v d="$duration" 'BEGIN { printf "%.0f", r / d }')")
		cpus+=("$(awk -v t=$((t1 - t0)) -v u="$us_per_tick" -v r="$reqs" 'BEGIN { printf "%.2f", t * u / r }')")
	done
	echo "| ${path%/echo} | $(printf '%s\n' "${rates[@]}" | median) | $(printf '%s\n' "${cpus[@]}" | median) |"
done
echo
echo "wrk -t1 -c$conns -d${duration}s, HTTP/1.1 keep-alive, one ES256 token ($(wc -c <<<"$token") bytes); median of $runs runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
