#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/http2.sh - swerver against Debian's nginx and h2o over TLS, same
# machine, same run, same worker count: HTTP/2 (ALPN h2, h2load) and
# HTTP/1.1 keep-alive (wrk, https://) on /.healthz and a 4 KiB static file,
# swerver on epoll and io_uring. Prints a markdown table per protocol of
# medians of RUNS runs, swerver/best-peer ratios and server CPU per request.
#
#   bench/http2.sh [--runs N] [--duration S] [--warmup S] [--workers W]
#                  [--h2-connections C] [--streams M] [--connections C]
#                  [--only h2|h1] [--tls13-ciphers SUITES] [--max-other PCT]
#
# Needs: h2load (nghttp2-client), wrk, nginx, h2o, openssl, curl
# (scripts/install-deps.sh --bench). Builds swerver with -O2 in a scratch
# directory unless SWERVER_BIN points at a binary.
set -euo pipefail

# wrk offers OpenSSL's default TLS 1.3 order, AES-256-GCM first, and every
# server here picks it; h2load's own list starts with AES-128-GCM, which
# nginx and h2o follow and a server preferring AES-256 does not. One suite
# for everyone keeps the cipher out of the comparison ("" = h2load's list).
tls13=TLS_AES_256_GCM_SHA384
# CPU % of one core that other processes may use during a run before it is
# redone: a build or test suite on the same two cores moves req/s by 2x.
quiet=10
runs=3 duration=8 warmup=1 workers=1 h2conns=16 streams=32 conns=64 only=
usage="usage: $0 [--runs N] [--duration S] [--warmup S] [--workers W] [--h2-connections C] [--streams M] [--connections C] [--only h2|h1] [--tls13-ciphers SUITES] [--max-other PCT]"
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--workers) workers=$2; shift 2 ;;
	--h2-connections) h2conns=$2; shift 2 ;;
	--streams) streams=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--tls13-ciphers) tls13=$2; shift 2 ;;
	--max-other) quiet=$2; shift 2 ;;
	*) echo "$usage" >&2; exit 64 ;;
	esac
done
case $only in "" | h2 | h1) ;; *) echo "$usage" >&2; exit 64 ;; esac

# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"
need h2load wrk nginx h2o openssl curl taskset python3
split_cpus "$workers"

wait_port() {
	for _ in $(seq 100); do
		curl -sk -o /dev/null "https://127.0.0.1:$1/.healthz" && return 0
		sleep 0.05
	done
	echo "server on port $1 did not come up over TLS" >&2
	return 1
}

start_swerver() { # backend port
	cat > "$work/swerver-$1.json" <<JSON
{ "server": { "listeners": [{ "address": "127.0.0.1", "port": $2, "use_tls": true }],
              "workers": $workers, "io_backend": "$1", "static_root": "$work/www",
              "max_connections": 10000 },
  "tls": { "cert_path": "$work/cert.pem", "key_path": "$work/key.pem" },
  "timeouts": { "idle_ms": 60000 }, "access_log": "off", "log": { "level": "warn" } }
JSON
	taskset -c "$server_cpus" "$swerver" -c "$work/swerver-$1.json" 2>>"$work/swerver.log" &
	pids+=($!)
	server_pid=$!
	wait_port "$2"
}

start_nginx() { # port
	mkdir -p "$work/nginx"
	# nginx 1.22 syntax: "http2" is a listen parameter.
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
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    server {
        listen 127.0.0.1:$1 ssl http2 reuseport;
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

start_h2o() { # port
	local user=
	mkdir -p "$work/h2o"
	# h2o refuses to run as root without a user to switch to.
	[ "$(id -u)" -eq 0 ] && user="user: nobody"
	# No access log unless asked for; the self-signed cert has no OCSP URI,
	# so stapling is switched off rather than retried in the background.
	cat > "$work/h2o.conf" <<CONF
num-threads: $workers
error-log: $work/h2o/error.log
$user
http2-max-concurrent-requests-per-connection: 128
listen:
  host: 127.0.0.1
  port: $1
  ssl:
    certificate-file: $work/cert.pem
    key-file: $work/key.pem
    ocsp-update-interval: 0
hosts:
  default:
    paths:
      /:
        file.dir: $work/www
CONF
	taskset -c "$server_cpus" h2o -c "$work/h2o.conf" >>"$work/h2o/stderr" 2>&1 &
	pids+=($!)
	server_pid=$!
	wait_port "$1"
}

# Every server must answer 200 with the same bytes over the protocol it is
# measured on, or the numbers mean nothing. Writes "name body_bytes +
# header_bytes" of /.healthz per server to $work/notes-PROTO: the servers
# answer it differently and the table should say how.
check_same() { # proto(h1|h2) name:port...
	local proto=$1 want got np name port flag=--http1.1 ver=1.1 v code hdr body
	shift
	[ "$proto" = h2 ] && flag=--http2 ver=2
	want=$(sha256sum < "$work/www/4k.bin")
	for np in "$@"; do
		name=${np%:*} port=${np##*:}
		got=$(curl -sfk "$flag" "https://127.0.0.1:$port/4k.bin" | sha256sum) ||
			{ echo "$name: /4k.bin did not answer 200 over $proto" >&2; exit 1; }
		[ "$got" = "$want" ] || { echo "$name: /4k.bin body differs over $proto" >&2; exit 1; }
		read -r v code hdr body < <(curl -sk "$flag" -o /dev/null \
			-w '%{http_version} %{http_code} %{size_header} %{size_download}\n' \
			"https://127.0.0.1:$port/.healthz")
		if [ "$v" != "$ver" ] || [ "$code" != 200 ]; then
			echo "$name: /.healthz answered HTTP/$v $code over $proto" >&2
			exit 1
		fi
		echo "$name $body + $hdr" >>"$work/notes-$proto"
	done
}

# Whether the server on a port negotiates h2 by ALPN; swerver's is new.
speaks_h2() { # port
	[ "$(curl -sk --http2 -o /dev/null -w '%{http_version}' "https://127.0.0.1:$1/.healthz")" = 2 ]
}

# TLS version and cipher an OpenSSL client with default settings (like wrk)
# gets, and the protocol chosen by ALPN out of h2 and http/1.1.
tls_params() { # port
	openssl s_client -connect "127.0.0.1:$1" -alpn h2,http/1.1 </dev/null 2>/dev/null |
		awk '/^New, / { v = $2; c = $NF; sub(/,$/, "", v) }
		     /^ALPN protocol:/ { a = $NF }
		     END { print v, c, "ALPN " (a == "" ? "none" : a) }'
}

# One load run in the background; the server's CPU is sampled only once the
# warm-up is over, so it covers the same window as the requests counted.
# Sets lo_rps, lo_requests, lo_ticks and lo_errors: failed, timed-out and
# non-2xx requests, or 1 when the output cannot be parsed (e.g. no h2).
# Sets lo_other: CPU % of one core that neither the server nor the load
# generator used, i.e. something else on the machine disturbing the run.
# Not run in $(...), so the EXIT trap knows load_pid and can kill it.
load_once() { # proto url pid
	local t0 t1 b0 b1 c0 c1 skip=0 rc=0 suites=()
	if [ "$1" = h2 ]; then
		[ -n "$tls13" ] && suites=(--tls13-ciphers="$tls13")
		taskset -c "$client_cpus" timeout $((warmup + duration + 30)) \
			h2load -c"$h2conns" -m"$streams" -t1 -D"$duration" --warm-up-time="$warmup" \
			"${suites[@]}" "$2" >"$work/load.out" 2>&1 &
		skip=$warmup
	else
		taskset -c "$client_cpus" timeout $((duration + 30)) \
			wrk -t1 -c"$conns" -d"${duration}s" "$2" >"$work/load.out" 2>&1 &
	fi
	load_pid=$!
	c0=$(child_ticks) b0=$(busy_ticks)
	sleep "$skip"
	t0=$(cpu_ticks "$3")
	wait "$load_pid" || rc=$?
	t1=$(cpu_ticks "$3")
	b1=$(busy_ticks) c1=$(child_ticks)
	load_pid=
	lo_ticks=$((t1 - t0))
	# Over the whole run, warm-up included: the server's warm-up share is
	# estimated from its rate in the measured window.
	lo_other=$(awk -v b=$((b1 - b0)) -v c=$((c1 - c0)) -v s=$((t1 - t0)) \
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
				err = (rps == "" || alpn != "h2" || rc != 0) ? (bad > 0 ? bad : 1) : bad
				printf "%s %d %d\n", (rps == "" ? 0 : rps), done, err }' "$work/load.out")
		# What h2load negotiated, printed under the table as evidence.
		awk -v p="$3" '/^(TLS Protocol|Cipher):/ { printf " %s", $NF } END { print "" }' \
			"$work/load.out" >"$work/cipher-$3"
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

# RUNS rounds over every server in turn, so a burst of outside load hits
# all servers alike rather than every run of one, then the table row of
# medians (errors summed over the runs). A server given as "-" is n/a.
measure_row() { # proto path port:pid...
	local proto=$1 path=$2 sp i try k_rps k_cpu k_other rps=() cpu=() err=() res=()
	shift 2
	for _ in $(seq "$runs"); do
		i=0
		for sp in "$@"; do
			i=$((i + 1))
			[ "$sp" = - ] && continue
			# A run that something else on the machine disturbed is redone,
			# twice at most, and the least disturbed one is kept. Failed
			# requests count whichever run they happened in.
			k_other=
			for try in 1 2 3; do
				load_once "$proto" "https://127.0.0.1:${sp%:*}$path" "${sp#*:}"
				if [ "$lo_errors" -gt 0 ]; then
					echo "$proto port ${sp%:*} $path: $lo_errors failed requests; load generator output:" >&2
					tail -n 12 "$work/load.out" >&2
				fi
				err[i]=$((${err[i]:-0} + lo_errors))
				if [ -z "$k_other" ] || [ "$lo_other" -lt "$k_other" ]; then
					k_other=$lo_other k_rps=$lo_rps
					k_cpu=$(awk -v t="$lo_ticks" -v n="$lo_requests" -v u="$us_per_tick" \
						'BEGIN { printf "%.2f", (n > 0 ? t * u / n : 0) }')
				fi
				[ "$lo_other" -le "$quiet" ] || [ "$try" = 3 ] && break
				echo "$proto port ${sp%:*} $path: other processes used $lo_other% of a CPU, run again" >&2
			done
			if [ "$k_other" -gt "$other_max" ]; then other_max=$k_other; fi
			rps[i]+="$k_rps " cpu[i]+="$k_cpu "
		done
	done
	for i in $(seq $#); do
		if [ -z "${rps[i]:-}" ]; then res+=("- - 0"); continue; fi
		res+=("$(tr ' ' '\n' <<<"${rps[i]}" | median) $(tr ' ' '\n' <<<"${cpu[i]}" | median) ${err[i]}")
	done
	row "$path" "${res[@]}"
}

# One table row from "rps cpu errors" per server, swerver epoll and io_uring
# first, then the peers; "-" for a server that was not measured. Ratios are
# against the best peer on each metric: the highest req/s, the lowest CPU.
row() { # path result...
	local path=$1
	shift
	printf '%s\n' "$@" | awk -v p="$path" '
		function cell(r, e) {
			if (r == "-") return "n/a"
			return sprintf("%.0f", r) (e > 0 ? sprintf(" (%d errors)", e) : "")
		}
		function ratio(a, b) { return (a == "-" || b <= 0 || a <= 0) ? "n/a" : sprintf("%.2fx", a / b) }
		{ r[NR] = $1; c[NR] = $2; e[NR] = $3 }
		END {
			best = 0; low = 0
			for (i = 3; i <= NR; i++) {
				if (r[i] != "-" && r[i] + 0 > best) best = r[i] + 0
				if (c[i] != "-" && c[i] + 0 > 0 && (low == 0 || c[i] + 0 < low)) low = c[i] + 0
			}
			line = "| " p
			for (i = 1; i <= NR; i++) line = line " | " cell(r[i], e[i])
			line = line " | " ratio(r[1], best) " / " ratio(r[2], best) " | "
			for (i = 1; i <= NR; i++) line = line (i > 1 ? " / " : "") (c[i] == "-" ? "n/a" : c[i])
			line = line " | " ratio(low, c[1]) " / " ratio(low, c[2]) " |"
			print line }'
}

# Whether anything else ran during a table's runs: on a shared machine
# req/s falls while CPU per request holds, and the reader should know.
disturbed() {
	echo "Other processes used at most $other_max% of a CPU during a kept run of this table (beside the server and load generator; a few % is noise, more makes req/s unreliable, CPU per request less so)."
}

# The /.healthz line of a table's notes.
notes() { # proto
	awk '{ printf "%s%s %s-byte body + %s header bytes", (NR > 1 ? "; " : ""), $1, $2, $4 }
	     END { print "." }' "$work/notes-$1" | sed 's/^/\/.healthz as curl saw it: /'
}

other_max=0 # set by measure_row
swerver=$(build_swerver)/swerver
make_site
port_epoll=$(free_port); start_swerver epoll "$port_epoll"; pid_epoll=$server_pid
port_uring=$(free_port); start_swerver io_uring "$port_uring"; pid_uring=$server_pid
port_nginx=$(free_port); start_nginx "$port_nginx"; pid_nginx=$server_pid
port_h2o=$(free_port); start_h2o "$port_h2o"; pid_h2o=$server_pid

# swerver's HTTP/2 is young: without h2 its rows say n/a instead of failing.
swerver_h2=yes
speaks_h2 "$port_epoll" && speaks_h2 "$port_uring" || swerver_h2=no
check_same h1 "swerver-epoll:$port_epoll" "swerver-io_uring:$port_uring" \
	"nginx:$port_nginx" "h2o:$port_h2o"
h2_servers=("nginx:$port_nginx" "h2o:$port_h2o")
[ "$swerver_h2" = yes ] && h2_servers=("swerver-epoll:$port_epoll" "swerver-io_uring:$port_uring" "${h2_servers[@]}")
check_same h2 "${h2_servers[@]}"

echo "# swerver $("$swerver" -V | head -n 1 | cut -d' ' -f3) vs $(nginx -v 2>&1 | cut -d' ' -f3) and h2o/$(h2o -v | awk 'NR == 1 { print $3 }'), $(h2load --version | head -n 1), wrk $(wrk -v 2>&1 | awk 'NR == 1 { print $2 }')"
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $ncpu CPUs, kernel $(uname -r), $(openssl version | cut -d' ' -f1-2)"
echo "# workers $workers (CPUs $server_cpus), load generator on CPUs $client_cpus, median of $runs runs of ${duration}s"
echo "# TLS with a default OpenSSL client: swerver $(tls_params "$port_epoll"), nginx $(tls_params "$port_nginx"), h2o $(tls_params "$port_h2o")"
echo
echo "swerver answers /.healthz natively and nginx with \`return 200\`; h2o, which has no fixed-response handler, serves an empty file of that name."
echo
echo "req/s: median of $runs runs; ratio: swerver / the best peer's req/s. CPU: server CPU time (user + system, all its processes) per request in µs; CPU ratio: the lowest peer CPU / swerver's (>1 means swerver spends less)."

if [ "$only" != h1 ]; then
	echo
	echo "### HTTP/2 over TLS: h2load -c$h2conns -m$streams -t1 -D$duration --warm-up-time=$warmup${tls13:+ --tls13-ciphers=$tls13}"
	echo
	[ "$swerver_h2" = yes ] || echo "swerver did not negotiate h2 by ALPN: its HTTP/2 rows are n/a."
	notes h2
	echo
	echo "| path | epoll req/s | io_uring req/s | nginx req/s | h2o req/s | epoll / io_uring vs best peer | CPU µs/req epoll / io_uring / nginx / h2o | CPU ratio epoll / io_uring |"
	echo "| --- | ---: | ---: | ---: | ---: | --- | --- | --- |"
	other_max=0
	sw_e=- sw_u=-
	[ "$swerver_h2" = yes ] && sw_e=$port_epoll:$pid_epoll sw_u=$port_uring:$pid_uring
	for path in /.healthz /4k.bin; do
		measure_row h2 "$path" "$sw_e" "$sw_u" "$port_nginx:$pid_nginx" "$port_h2o:$pid_h2o"
	done
	echo
	disturbed
	echo
	echo "TLS as h2load negotiated it:$([ "$swerver_h2" = yes ] && echo " swerver$(cat "$work/cipher-$pid_epoll"),")" \
		"nginx$(cat "$work/cipher-$pid_nginx"), h2o$(cat "$work/cipher-$pid_h2o")."
fi

if [ "$only" != h2 ]; then
	echo
	echo "### HTTP/1.1 over TLS, keep-alive: wrk -t1 -c$conns -d${duration}s https://"
	echo
	notes h1
	echo
	echo "| path | epoll req/s | io_uring req/s | nginx req/s | h2o req/s | epoll / io_uring vs best peer | CPU µs/req epoll / io_uring / nginx / h2o | CPU ratio epoll / io_uring |"
	echo "| --- | ---: | ---: | ---: | ---: | --- | --- | --- |"
	other_max=0
	for path in /.healthz /4k.bin; do
		measure_row h1 "$path" "$port_epoll:$pid_epoll" "$port_uring:$pid_uring" \
			"$port_nginx:$pid_nginx" "$port_h2o:$pid_h2o"
	done
	echo
	disturbed
fi
