#!/bin/sh
# SPDX-License-Identifier: MIT
# nspawn-test.sh - the Debian package under a real systemd: builds the .deb
# from this tree (or takes one), boots a debootstrapped bookworm with
# systemd-nspawn and checks what only a real service manager shows:
#   - the postinst's file modes (config 0640 root:swerver, logs 0750),
#   - static files served by the packaged unit,
#   - logrotate's file: USR1 makes swerver write to the new file,
#   - `systemctl reload` of a broken config fails, the server keeps going,
#   - a broken config at start ends "failed" at once, no restart loop,
#   - both log the config's errors at error priority (journalctl -p err),
#   - a package upgrade (dpkg -i of the same files as version X+up1) hands
#     the running server the new binary: same unit invocation, a new
#     MainPID running the new file, the old master gone, no failed request.
#
#   scripts/nspawn-test.sh                  build the .deb, then test it
#   scripts/nspawn-test.sh swerver_X.deb    test a given .deb
#
# Needs root, debootstrap and systemd-container (scripts/install-deps.sh).
# The debootstrapped root is cached in /var/cache/swerver-ci/bookworm; each
# run works on an overlay of it, so the cache stays clean.  The container
# has no network (--private-network); its packages are installed before it
# boots.  Exit 0 when every check passed.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cache=/var/cache/swerver-ci
base=$cache/bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d /var/tmp/swerver-nspawn.XXXXXX)
root=$work/root
nspawn_pid=
init_pid=
failures=0

log() { printf '==== %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }

cleanup() {
	if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
		# SIGTERM to nspawn powers the container off cleanly.
		kill -TERM "$nspawn_pid" 2>/dev/null || true
		wait "$nspawn_pid" 2>/dev/null || true
	fi
	mountpoint -q "$root" && umount "$root"
	# Without systemd as the host's init nspawn cannot remove these itself
	# ("Attempted to remove disk file system"): /run is not a tmpfs here.
	rm -rf "/run/systemd/nspawn/propagate/swprep$$" "/run/systemd/nspawn/propagate/swtest$$"
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || { echo "nspawn-test.sh: needs root" >&2; exit 2; }
for t in debootstrap systemd-nspawn nsenter dpkg-buildpackage; do
	command -v "$t" >/dev/null || { echo "nspawn-test.sh: $t missing (scripts/install-deps.sh)" >&2; exit 2; }
done

# ---- the .deb -----------------------------------------------------------------
build_deb() {
	log "building the .deb from $top" >&2
	mkdir -p "$work/src/swerver"
	# The tree as it is, uncommitted changes included, without build output.
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -P -t "$work/src/swerver")
	(cd "$work/src/swerver" &&
		DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1) ||
		{ tail -n 40 "$work/build.log"; exit 1; }
	ls "$work"/src/swerver_*.deb
}
if [ $# -ge 1 ]; then
	deb=$(readlink -f "$1")
else
	deb=$(build_deb)
fi
[ -f "$deb" ] || { echo "nspawn-test.sh: no .deb at $deb" >&2; exit 2; }

# ---- the root: cached debootstrap, an overlay per run ----------------------------
if [ ! -d "$base" ]; then
	log "debootstrapping bookworm into $base (once)"
	mkdir -p "$cache"
	rm -rf "$base.tmp"
	debootstrap --variant=minbase \
		--include=systemd,systemd-sysv,dbus,curl,ca-certificates,logrotate \
		bookworm "$base.tmp" "$mirror"
	mv "$base.tmp" "$base"
fi
mkdir -p "$root" "$work/upper" "$work/ovl" "$cache/apt-archives"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/ovl" "$root"
cp "$deb" "$root/srv/swerver.deb"
# The QUIC libraries the package links are in bookworm-backports.
echo "deb $mirror bookworm-backports main" >"$root/etc/apt/sources.list.d/backports.list"

log "installing the package's dependencies (network, before boot)"
# apt resolves them from the .deb; the package itself is removed again so
# that its postinst runs under the booted systemd below.  The QUIC
# libraries and the GnuTLS they need come from backports, as on the build
# machine (scripts/install-deps.sh).
systemd-nspawn -q --register=no --keep-unit -M "swprep$$" -D "$root" --bind="$cache/apt-archives:/var/cache/apt/archives" \
	sh -c 'export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq &&
		apt-get install -y -qq --no-install-recommends -t bookworm-backports \
			/srv/swerver.deb >/dev/null &&
		dpkg --purge swerver >/dev/null' >"$work/deps.log" 2>&1 ||
	{ tail -n 40 "$work/deps.log"; exit 1; }

# ---- boot ------------------------------------------------------------------------
log "booting the container"
systemd-nspawn -q --boot --register=no --keep-unit --private-network \
	--console=passive -D "$root" -M "swtest$$" >"$work/boot.log" 2>&1 &
nspawn_pid=$!
# The container's init is nspawn's child that runs systemd.
for _ in $(seq 1 300); do
	for c in $(ps -o pid= --ppid "$nspawn_pid" 2>/dev/null); do
		[ "$(cat /proc/"$c"/comm 2>/dev/null)" = systemd ] && init_pid=$c
	done
	[ -n "$init_pid" ] && break
	kill -0 "$nspawn_pid" 2>/dev/null || { cat "$work/boot.log"; exit 1; }
	sleep 0.1
done
[ -n "$init_pid" ] || { echo "no init in the container"; cat "$work/boot.log"; exit 1; }

in_ct() { nsenter -t "$init_pid" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }
# systemctl answers once PID 1 has its private socket; then wait for boot.
for _ in $(seq 1 300); do
	in_ct test -S /run/systemd/private && break
	sleep 0.1
done
state=$(in_ct timeout 120 systemctl is-system-running --wait || true)
log "container (init pid $init_pid) is up: $state"

# How many of swerver's journal lines at error priority hold the text.
count_err() { in_ct journalctl -q -u swerver -p err -o cat | grep -c "$1" || true; }
# Whether more of them than `before` appear.  journald reads the service's
# stderr stream asynchronously, so a line may arrive after systemctl has
# returned: ask again for a while.
journal_err_grows() {   # before, text
	for _ in $(seq 1 50); do
		[ "$(count_err "$2")" -gt "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

# ---- checks ----------------------------------------------------------------------
log "dpkg -i (postinst under systemd)"
in_ct dpkg -i /srv/swerver.deb >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; exit 1; }
if in_ct systemctl is-active -q swerver; then ok "swerver active after install"
else fail "swerver not active after install"; in_ct systemctl status swerver || true; fi

m=$(in_ct stat -c '%a %U:%G' /etc/swerver/swerver.json 2>&1 || true)
[ "$m" = "640 root:swerver" ] && ok "/etc/swerver/swerver.json is $m" ||
	fail "/etc/swerver/swerver.json is $m, want 640 root:swerver"
m=$(in_ct stat -c '%a %U:%G' /var/log/swerver 2>&1 || true)
[ "$m" = "750 swerver:swerver" ] && ok "/var/log/swerver is $m" ||
	fail "/var/log/swerver is $m, want 750 swerver:swerver"

log "static files and a file access log"
in_ct sh -c 'mkdir -p /var/www/html && echo "hello from nspawn" >/var/www/html/index.html &&
	cat >/etc/swerver/swerver.json <<EOF
{ "server": { "address": "127.0.0.1", "port": 8080, "workers": 2,
              "static_root": "/var/www/html" },
  "access_log": { "format": "combined", "target": "/var/log/swerver/access.log" } }
EOF'
if in_ct systemctl reload swerver; then ok "reload of a good config"
else fail "reload of a good config"; in_ct journalctl -q -u swerver -n 20 --no-pager; fi
get() { in_ct curl -fsS --max-time 10 http://127.0.0.1:8080/index.html 2>&1 || true; }
body=$(get)
[ "$body" = "hello from nspawn" ] && ok "GET /index.html served the file" ||
	fail "GET /index.html: $body"

log "logrotate"
# The access log is buffered: rotate once a line has reached the file.
for _ in $(seq 1 50); do
	in_ct test -s /var/log/swerver/access.log && break
	sleep 0.2
done
in_ct logrotate -f /etc/logrotate.d/swerver || fail "logrotate -f failed"
# The master got USR1 once logrotate returned; the reopen is asynchronous,
# so ask until a request lands in the new file (bounded, not timed).
lines=0
for _ in $(seq 1 50); do
	get >/dev/null
	lines=$(in_ct sh -c 'cat /var/log/swerver/access.log 2>/dev/null | wc -l')
	[ "$lines" -gt 0 ] && break
	sleep 0.2
done
[ "$lines" -gt 0 ] && ok "requests logged to the new access.log after rotation" ||
	fail "access.log stays empty after logrotate (USR1 not applied?)"
in_ct test -s /var/log/swerver/access.log.1 && ok "access.log.1 holds the old lines" ||
	fail "no access.log.1 after logrotate"
m=$(in_ct stat -c '%a %U:%G' /var/log/swerver/access.log 2>&1 || true)
[ "$m" = "640 swerver:swerver" ] && ok "new access.log is $m" || fail "new access.log is $m"

log "reload with a broken config"
in_ct sh -c 'cp /etc/swerver/swerver.json /root/good.json &&
	printf "{ \"server\": { \"port\": 70000 } }\n" >/etc/swerver/swerver.json'
before=$(count_err server.port)
if in_ct systemctl reload swerver 2>"$work/reload.err"; then
	fail "systemctl reload of a broken config returned 0"
else
	ok "systemctl reload of a broken config failed: $(head -n 1 "$work/reload.err")"
fi
in_ct systemctl is-active -q swerver && ok "still active after the failed reload" ||
	fail "not active after the failed reload"
body=$(get)
[ "$body" = "hello from nspawn" ] && ok "still serving after the failed reload" ||
	fail "GET after the failed reload: $body"
if journal_err_grows "$before" server.port; then
	ok "the reload's reason is in the journal at error priority"
else
	fail "no server.port error in journalctl -p err after the reload"
	in_ct journalctl -q -u swerver -o short-monotonic | tail -n 20
fi

log "start with a broken config"
before=$(count_err server.port)
if in_ct systemctl restart swerver 2>/dev/null; then fail "restart with a broken config returned 0"
else ok "systemctl restart with a broken config failed"; fi
# Whether `systemctl show` prints p1=v1 ... in this order or another.
has_props() {   # output, wanted "P=V"...
	out=$1; shift
	for want; do
		printf '%s\n' "$out" | grep -qx "$want" || return 1
	done
}
show=$(in_ct systemctl show -p ActiveState -p NRestarts -p ExecMainStatus swerver)
if has_props "$show" ActiveState=failed NRestarts=0 ExecMainStatus=78; then
	ok "failed at once: $(echo $show)"
else
	fail "after a broken start: $(echo $show)"
fi
# "failed" is final: with Restart=on-failure looping, the unit would sit in
# "activating (auto-restart)" and NRestarts would grow after RestartSec (2 s).
sleep 3
show=$(in_ct systemctl show -p ActiveState -p NRestarts swerver)
if has_props "$show" ActiveState=failed NRestarts=0; then
	ok "still failed, no restart: $(echo $show)"
else
	fail "restarted after failing: $(echo $show)"
fi
if journal_err_grows "$before" server.port; then
	ok "the start's reason is in the journal at error priority"
else
	fail "no server.port error in journalctl -p err after the start"
	in_ct journalctl -q -u swerver | tail -n 20
fi

log "a good config starts again"
in_ct cp /root/good.json /etc/swerver/swerver.json
in_ct systemctl reset-failed swerver
if in_ct systemctl start swerver && [ "$(get)" = "hello from nspawn" ]; then ok "started and serving"
else fail "did not start again with a good config"; fi

log "package upgrade: dpkg -i of a higher version under load"
# The same files repacked as version X+up1: dpkg replaces /usr/sbin/swerver
# under the running master, as a real upgrade does, and runs the postinst
# with "configure X", which hands the running server the new binary
# (SIGUSR2).  Poll bounded, never timed: the upgrade is asynchronous.
mkdir "$work/up"
dpkg-deb -R "$deb" "$work/up/tree"
ver=$(dpkg-deb -f "$deb" Version)
sed -i "s/^Version: .*/Version: $ver+up1/" "$work/up/tree/DEBIAN/control"
dpkg-deb -b "$work/up/tree" "$root/srv/swerver-up.deb" >/dev/null
old=$(in_ct systemctl show -p MainPID --value swerver)
old_exe=$(in_ct readlink "/proc/$old/exe" || true)
old_ino=$(in_ct stat -Lc %i "/proc/$old/exe" || true)
# A stop/start or a restart by systemd would change the invocation id.
inv=$(in_ct systemctl show -p InvocationID -p NRestarts swerver)
log "old master pid $old, exe $old_exe"
# Requests until told to stop (bounded): each a new connection, each
# status that is not 200 counted.  One line at the end: "total failures".
in_ct sh -c 'n=0 bad=0
	while [ ! -e /run/swerver-loop-stop ] && [ $n -lt 100000 ]; do
		c=$(curl -s -o /dev/null -w "%{http_code}" --max-time 10 http://127.0.0.1:8080/index.html)
		n=$((n + 1)); [ "$c" = 200 ] || { bad=$((bad + 1)); echo "status $c" >&2; }
	done
	echo "$n $bad"' </dev/null >"$work/loop.out" 2>"$work/loop.err" &
loop_pid=$!
# Some requests before the upgrade starts: the journal of curls shows them.
for _ in $(seq 1 100); do
	[ "$(in_ct sh -c 'wc -l </var/log/swerver/access.log')" -gt 5 ] && break
	sleep 0.1
done
if in_ct dpkg -i /srv/swerver-up.deb >"$work/dpkg-up.log" 2>&1; then ok "dpkg -i of version $ver+up1"
else fail "dpkg -i of version $ver+up1"; cat "$work/dpkg-up.log"; fi
new=$old
for _ in $(seq 1 300); do
	new=$(in_ct systemctl show -p MainPID --value swerver)
	[ "$new" != "$old" ] && [ "$new" != 0 ] && break
	sleep 0.2
done
if [ "$new" != "$old" ] && [ "$new" != 0 ]; then ok "MainPID moved from $old to $new"
else fail "MainPID stays $new after the upgrade"; in_ct journalctl -q -u swerver -n 30 --no-pager; fi
# Same path, not "(deleted)", and the inode dpkg put there, not the old one.
new_exe=$(in_ct readlink "/proc/$new/exe" || true)
new_ino=$(in_ct stat -Lc %i "/proc/$new/exe" || true)
file_ino=$(in_ct stat -c %i "$old_exe" || true)
if [ "$new_exe" = "$old_exe" ] && [ "$new_ino" = "$file_ino" ] && [ "$new_ino" != "$old_ino" ]; then
	ok "the new master runs the new file: $new_exe, inode $old_ino -> $new_ino"
else
	fail "the new master's exe is '$new_exe' inode $new_ino, want '$old_exe' inode $file_ino (old $old_ino)"
fi
for _ in $(seq 1 300); do
	in_ct test -d "/proc/$old" || break
	sleep 0.2
done
in_ct test -d "/proc/$old" && fail "the old master $old is still running" ||
	ok "the old master $old exited"
in_ct touch /run/swerver-loop-stop
wait "$loop_pid" || true
read -r total bad <"$work/loop.out" || { total=0; bad=?; }
if [ "$bad" = 0 ] && [ "$total" -gt 0 ]; then ok "request loop: $total requests, 0 failures"
else fail "request loop: $total requests, $bad failures: $(sort "$work/loop.err" | uniq -c | head -n 5)"; fi
show=$(in_ct systemctl show -p ActiveState -p SubState -p Result -p MainPID swerver)
if has_props "$show" ActiveState=active SubState=running Result=success "MainPID=$new" &&
   [ "$(in_ct systemctl show -p InvocationID -p NRestarts swerver)" = "$inv" ]; then
	ok "unit after the upgrade, same invocation: $(echo $show $inv)"
else
	fail "unit after the upgrade: $(echo $show), before $(echo $inv)," \
		"now $(echo $(in_ct systemctl show -p InvocationID -p NRestarts swerver))"
fi
in_ct systemctl status --no-pager swerver >"$work/status.txt" 2>&1 || true
if grep -qE 'degraded|failed' "$work/status.txt"; then
	fail "systemctl status after the upgrade:"; cat "$work/status.txt"
else
	ok "systemctl status: $(sed -n 's/^ *Active: //p' "$work/status.txt")"
fi
body=$(get)
[ "$body" = "hello from nspawn" ] && ok "serving after the upgrade" || fail "GET after the upgrade: $body"
j=$(in_ct journalctl -q -u swerver -o cat)
[ -n "${NSPAWN_VERBOSE:-}" ] && in_ct journalctl -q -u swerver -n 40 --no-pager
for line in "binary upgrade: taking over from the old master" \
	"binary upgrade complete: the new master serves"; do
	printf '%s\n' "$j" | grep -q "$line" && ok "journal: $line" || fail "journal lacks: $line"
done

log "systemd still supervises the upgraded master"
# The new master was the old one's child when it sent MAINPID= ("not our
# child" in the journal); once the old one exits it is PID 1's, and its
# end must still reach the unit: a crash restarts it, a stop stops it.
# Wait for MainPID to change from `1` (bounded); prints the new one.
main_moves() {   # from
	for _ in $(seq 1 150); do
		p=$(in_ct systemctl show -p MainPID --value swerver)
		[ "$p" != "$1" ] && [ "$p" != 0 ] && in_ct systemctl is-active -q swerver &&
			{ echo "$p"; return 0; }
		sleep 0.2
	done
	return 1
}
in_ct systemctl kill --kill-whom=main --signal=KILL swerver
if p=$(main_moves "$new"); then
	show=$(in_ct systemctl show -p NRestarts swerver)
	[ "$show" = NRestarts=1 ] && ok "SIGKILL of the upgraded master: restarted as $p ($show)" ||
		fail "SIGKILL of the upgraded master: MainPID $p, $show"
else
	fail "SIGKILL of the upgraded master: no restart"
	in_ct systemctl status --no-pager swerver || true
fi
# Upgrade in place once more (same file), then stop the upgraded master.
cur=$(in_ct systemctl show -p MainPID --value swerver)
in_ct systemctl kill --kill-whom=main --signal=USR2 swerver
if p=$(main_moves "$cur"); then ok "USR2 again: MainPID $cur -> $p"
else fail "USR2 again: MainPID stays $cur"; fi
# Once the old master is gone: a stop while it still drains SIGKILLs the
# old generation (KillMode=mixed) and was seen once to end Result=signal.
for _ in $(seq 1 300); do
	in_ct test -d "/proc/$cur" || break
	sleep 0.2
done
if in_ct systemctl stop swerver; then
	show=$(in_ct systemctl show -p ActiveState -p Result swerver)
	# systemd SIGKILLs an alien main process right after the SIGTERM unless
	# ExecStop waits for it: then the master never drains.
	killed=$(in_ct journalctl -q -u swerver -o cat | grep -c "Killing process $p " || true)
	has_props "$show" ActiveState=inactive Result=success && [ "$killed" = 0 ] &&
		ok "systemctl stop of an upgraded master drains it: $(echo $show)" ||
		{ fail "systemctl stop of an upgraded master: $(echo $show), $killed SIGKILL of $p"
		  in_ct journalctl -q -u swerver -n 25 --no-pager; }
else
	fail "systemctl stop of an upgraded master failed"
fi

# NSPAWN_HOLD=SECONDS keeps the container up at the end, to look around:
# nsenter -t <init pid> -a
[ -n "${NSPAWN_HOLD:-}" ] && { log "holding: nsenter -t $init_pid -a"; sleep "$NSPAWN_HOLD" || true; }
if [ "$failures" -eq 0 ]; then log "all checks passed"; else log "$failures check(s) failed"; fi
[ "$failures" -eq 0 ]
