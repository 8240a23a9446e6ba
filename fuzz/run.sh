#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fuzz/run.sh [SECONDS] - builds the libFuzzer targets if needed and runs each
# on a scratch copy of its seed corpus, SECONDS in all (default 60) split
# evenly between the targets that were built (fuzz_h2 needs --enable-http2,
# fuzz_h3 --enable-http3).
# Exits non-zero when a target crashes or breaks an invariant; the reproducer
# is kept (see "artifact" in the output).
#
# Environment:
#   SW_BUILDDIR     configured build tree (default: the source tree); when it
#                   has no Makefile the targets are built standalone with clang
#   FUZZ_CC         the clang to use (default: clang)
#   SW_FUZZ_OUT     where reproducers are kept (default: ./fuzz-artifacts)
#   SW_FUZZ_FLAGS   extra libFuzzer flags, e.g. "-jobs=2 -workers=2"
set -euo pipefail

total=${1:-60}
case $total in ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 64 ;; esac

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=$(cd "${SW_BUILDDIR:-$srcdir}" && pwd)
fuzz_cc=${FUZZ_CC:-clang}
out=${SW_FUZZ_OUT:-$PWD/fuzz-artifacts}
targets=(http1 response chunked proxy_proto h2 h3 admin config body jwt)

command -v "$fuzz_cc" >/dev/null ||
	{ echo "fuzz: $fuzz_cc not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/swerver-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- build ---------------------------------------------------------------
bindir=$builddir/fuzz
if [ -f "$builddir/Makefile" ]; then
	make -s -C "$builddir" fuzz FUZZ_CC="$fuzz_cc" >&2
else
	# Unconfigured tree: the parsers need only _GNU_SOURCE from config.h; the
	# targets with more of the daemon (h2, h3, admin) need a configured tree.
	echo "fuzz: $builddir is not configured; building the parser targets standalone" >&2
	bindir=$work/bin
	mkdir -p "$bindir"
	printf '#define _GNU_SOURCE 1\n#define _FILE_OFFSET_BITS 64\n' > "$bindir/config.h"
	targets=(http1 response chunked proxy_proto)
	for t in "${targets[@]}"; do
		case $t in
		http1 | response) srcs=("$srcdir/src/http/http1.c" "$srcdir/src/http/request.c") ;;
		*) srcs=("$srcdir/src/http/$t.c") ;;
		esac
		"$fuzz_cc" -I"$srcdir/src" -I"$bindir" -g -O1 -fno-omit-frame-pointer \
			-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
			-o "$bindir/fuzz_$t" "$srcdir/fuzz/fuzz_$t.c" "${srcs[@]}" \
			"$srcdir/src/core/str.c"
	done
fi

# --- libFuzzer dictionary: the tokens the parsers branch on ----------------
cat > "$work/http.dict" <<'EOF'
"\x0d\x0a"
"\x0d\x0a\x0d\x0a"
" HTTP/1.1\x0d\x0a"
" HTTP/1.0\x0d\x0a"
"HTTP/2.0"
"GET"
"HEAD"
"POST"
"OPTIONS"
"CONNECT"
"Host: "
"Content-Length: "
"Transfer-Encoding: "
"chunked"
"gzip, chunked"
"Connection: "
"close"
"keep-alive"
"Expect: "
"100-continue"
"http://"
"://"
"*"
"0\x0d\x0a\x0d\x0a"
";ext=v"
"ffffffffffffffff"
EOF

# The PROXY protocol's words and v2 signature.
cat > "$work/pp.dict" <<'EOF'
"PROXY "
"TCP4 "
"TCP6 "
"UNKNOWN"
"\x0d\x0a"
"\x0d\x0a\x0d\x0a\x00\x0d\x0aQUIT\x0a"
"\x21\x11\x00\x0c"
"\x21\x21\x00\x24"
"\x20\x00"
EOF

# Tokens for the admin API's JSON bodies and config files (h2 and h3 take binary frames).
cat > "$work/admin.dict" <<'EOF'
"{"
"}"
"[]"
"\"path_prefix\": "
"\"upstream\": "
"\"host\": "
"\"name\": "
"\"servers\": "
"\"address\": "
"\"port\": "
"\"unix\": "
"\"weight\": "
"\"backup\": true"
"\"strip_prefix\": "
"\"health_check\": "
"\"load_balancer\": "
"\"app\""
"\"spare\""
"\\u0000"
"null"
"1e999"
"-1"
"\"server\": "
"\"listeners\": "
"\"routes\": "
"\"upstreams\": "
"\"trusted_proxies\": "
"\"rate_limit\": "
"\"requests_per_second\": "
"\"auth\": "
"\"api_key\": "
"\"basic\": "
"\"jwt\": "
"\"chain\": "
"\"anonymous\": "
"\"forward_auth\": "
"\"access\": "
"\"allow\": "
"\"deny\": "
"\"methods\": "
"\"body_schema\": "
"\"schema\": "
"\"properties\": "
"\"cors\": "
"\"origins\": "
"\"headers\": "
"\"response\": "
"\"burst_size\": "
"\"tls\": "
"\"quic\": "
"\"admin\": "
"\"limits\": "
"\"timeouts\": "
"//"
"/*"
"*/"
EOF

# --- run -------------------------------------------------------------------
built=()
for t in "${targets[@]}"; do
	if [ -x "$bindir/fuzz_$t" ]; then
		built+=("$t")
	else
		echo "fuzz: fuzz_$t not built here; skipped" >&2
	fi
done
targets=("${built[@]}")
per=$(( total / ${#targets[@]} ))
[ "$per" -ge 1 ] || per=1
summary=""
failed=0
start=$(date +%s)
for t in "${targets[@]}"; do
	bin=$bindir/fuzz_$t
	corpus=$work/corpus-$t
	mkdir -p "$corpus" "$work/art-$t"
	cp "$srcdir/fuzz/corpus/$t/"* "$corpus/"
	seeds=$(find "$corpus" -type f | wc -l)
	log=$work/$t.log
	rc=0
	case $t in
	h2 | h3 | jwt) dict=() ;;
	proxy_proto) dict=(-dict="$work/pp.dict") ;;
	admin | config | body) dict=(-dict="$work/admin.dict") ;;
	*) dict=(-dict="$work/http.dict") ;;
	esac
	# shellcheck disable=SC2086
	"$bin" -max_len=16384 -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 ${dict[@]+"${dict[@]}"} \
		-artifact_prefix="$work/art-$t/" ${SW_FUZZ_FLAGS:-} "$corpus" >"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(sed -n 's/.* cov: \([0-9]*\) .*/\1/p' "$log" | tail -n 1)
	found=$(find "$corpus" -type f | wc -l)
	if [ "$rc" -ne 0 ] || ls "$work/art-$t/"* >/dev/null 2>&1; then
		failed=1
		mkdir -p "$out"
		echo "==== fuzz_$t FAILED (exit $rc) ====" >&2
		# The message, and the stack frames in our own sources.
		grep -E 'invariant failed|^  [^ ]|ERROR:|SUMMARY|(src|fuzz)/[A-Za-z0-9_]+\.c:[0-9]' "$log" |
			head -n 40 >&2 || tail -n 40 "$log" >&2
		case $bin in "$work"/*) cp "$bin" "$out/" && bin=$out/fuzz_$t ;; esac   # standalone build
		for a in "$work/art-$t/"*; do
			[ -e "$a" ] || continue
			cp "$a" "$out/fuzz_$t-$(basename "$a")"
			echo "artifact: $out/fuzz_$t-$(basename "$a") (reproduce: $bin $out/fuzz_$t-$(basename "$a"))" >&2
			od -A d -c "$a" | head -n 20 >&2
		done
		summary="$summary $t=FAIL(${runs:-?} runs)"
	else
		summary="$summary $t=ok(${runs:-?} runs, cov ${cov:-?}, corpus $seeds->$found)"
	fi
done
elapsed=$(( $(date +%s) - start ))
if [ "$failed" -eq 0 ]; then
	echo "fuzz: PASS in ${elapsed}s:$summary"
else
	echo "fuzz: FAIL in ${elapsed}s:$summary"
fi
exit "$failed"
