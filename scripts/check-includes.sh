#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/check-includes.sh [SRCDIR] - holds src/ to its layers: nothing
# below the daemon includes src/daemon/, and no two directories include
# each other, directly or round a longer cycle.  The order is
#     core <- event <- http <- (tls, quic, proxy, admin, ...) <- daemon
# (DESIGN-NOTES.md, "Layers").  Prints each offending file:line and include,
# exits 1 if there is one.  SRCDIR defaults to the src/ beside this script.
set -euo pipefail

src=${1:-$(cd "$(dirname "$0")/.." && pwd)/src}
[ -d "$src/daemon" ] || { echo "check-includes: no src/daemon under $src" >&2; exit 2; }

# "dir file line target-dir include" for every #include "dir/..." between
# two directories of src/.
edges=$(cd "$src" && for f in */*.c */*.h; do
	awk -v f="$f" 'match($0, /^[ \t]*#[ \t]*include[ \t]*"[a-z0-9_]+\//) {
		inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*$/, "", inc)
		to = inc; sub(/\/.*$/, "", to)
		from = f; sub(/\/.*$/, "", from)
		if (to != from) print from, f, FNR, to, inc
	}' "$f"
done | while read -r from f line to inc; do
	[ -d "$src/$to" ] && echo "$from $f $line $to $inc"
done)

status=0

# 1. Nothing below the daemon reaches up into it.
while read -r from f line to inc; do
	[ -n "$from" ] || continue
	if [ "$to" = daemon ]; then
		echo "src/$f:$line: includes \"$inc\": only src/daemon/ (and src/main.c) may include src/daemon/"
		status=1
	fi
done <<< "$edges"

# 2. No cycle in the directory graph.  For each edge a -> b, a path back
# from b to a closes a cycle; print it once, with one include per step.
cycles=$(awk '
	{ key = $1 " " $4; if (!(key in ex)) { ex[key] = "src/" $2 ":" $3 " includes \"" $5 "\""; adj[$1] = adj[$1] " " $4 } }
	function path(a, b, seen,    n, i, nx, p, list) {   # a path a ... b, or ""
		if (a == b) return b
		seen[a] = 1
		n = split(adj[a], list, " ")
		for (i = 1; i <= n; i++) {
			nx = list[i]
			if (nx in seen) continue
			p = path(nx, b, seen)
			if (p != "") return a " " p
		}
		return ""
	}
	END {
		for (key in ex) {
			split(key, e, " ")
			delete seen
			p = path(e[2], e[1], seen)
			if (p == "") continue
			n = split(e[1] " " p, node, " ")
			# name the cycle by its smallest rotation, so each is printed once
			min = 1
			for (i = 2; i < n; i++) if (node[i] < node[min]) min = i
			name = ""
			for (i = 0; i < n; i++) { rot[i] = node[(min - 1 + i) % (n - 1) + 1]; name = name (i ? " -> " : "") rot[i] }
			if (name in done) continue
			done[name] = 1
			print "include cycle between directories: " name
			for (i = 0; i < n - 1; i++) print "  " ex[rot[i] " " rot[i + 1]]
		}
	}' <<< "$edges")
if [ -n "$cycles" ]; then
	echo "$cycles"
	status=1
fi

[ $status -eq 0 ] && echo "check-includes: src/ keeps its layers ($(grep -c . <<< "$edges") includes between directories)"
exit $status
