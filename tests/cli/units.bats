#!/usr/bin/env bats
#
# units.bats - issue 13, item 2: the systemd units of examples/systemd/.
#
# The units are checked three ways: `systemd-analyze verify` (with the
# binary under test in ExecStart=; skipped, saying so, only where
# systemd-analyze is not installed), their settings against each other
# (read with Python: KillMode=mixed, TimeoutStopSec= above the grace,
# TimeoutStartSec= above the deadline plus the grace), and their
# ExecStart= command lines run here, with the unit's Environment= (paths
# moved into $TMP) and, for app.service, a Python stand-in for systemd's
# notification socket (notifylisten.py).  Processes carry MARK in their
# environment and are cleaned up by PID.

load helpers
bats_require_minimum_version 1.5.0

: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"

UNITS="$TOP_SRCDIR/examples/systemd"

# unit_value FILE KEY: the last value of KEY in FILE's [Service] (or any)
# section, as systemd takes it.
unit_value() {
	python3 - "$@" <<'EOF'
import sys
path, key = sys.argv[1], sys.argv[2]
value = None
for line in open(path):
    line = line.strip()
    if line.startswith(("#", ";", "[")) or "=" not in line:
        continue
    k, v = line.split("=", 1)
    if k.strip() == key:
        value = v.strip()
if value is None:
    sys.exit("%s: no %s=" % (path, key))
print(value)
EOF
}

# seconds DURATION: a systemd time span such as 2h5m or 45s, in seconds.
seconds() {
	python3 - "$1" <<'EOF'
import re, sys
units = {"h": 3600, "min": 60, "m": 60, "s": 1, "ms": 0.001}
total, pos, s = 0.0, 0, sys.argv[1].replace(" ", "")
for m in re.finditer(r"(\d+(?:\.\d+)?)(ms|min|h|m|s)?", s):
    if m.start() != pos:
        sys.exit("bad time span " + s)
    total += float(m.group(1)) * units[m.group(2) or "s"]
    pos = m.end()
if pos != len(s) or pos == 0:
    sys.exit("bad time span " + s)
print(int(total))
EOF
}

# exec_start FILE [NAME=VALUE]...: FILE's ExecStart= as NUL-separated
# words, split as systemd splits it (quotes; ${NAME} and $NAME from the
# unit's Environment=, overridden by the arguments), with
# /usr/bin/cancelrun replaced by the binary under test.
exec_start() {
	python3 - "$CANCELRUN" "$@" <<'EOF'
import re, shlex, sys
cancelrun, path, overrides = sys.argv[1], sys.argv[2], sys.argv[3:]
env, cmd = {}, None
for line in open(path):
    line = line.strip()
    if line.startswith("Environment="):
        for word in shlex.split(line[len("Environment="):]):
            k, v = word.split("=", 1)
            env[k] = v
    elif line.startswith("ExecStart="):
        cmd = line[len("ExecStart="):]
for word in overrides:
    k, v = word.split("=", 1)
    env[k] = v
argv = []
for word in shlex.split(cmd):
    m = re.fullmatch(r"\$\{(\w+)\}|\$(\w+)", word)
    if m:
        argv.append(env[m.group(1) or m.group(2)])
    else:
        argv.append(word)
if argv[0] == "/usr/bin/cancelrun":
    argv[0] = cancelrun
sys.stdout.write("\0".join(argv) + "\0")
EOF
}

@test "examples/systemd: systemd-analyze verify accepts every unit" {
	if ! command -v systemd-analyze >/dev/null; then
		skip "systemd-analyze is not installed (the settings and" \
		    "command lines are still checked below)"
	fi
	local f n=0
	mkdir "$TMP/units"
	for f in "$UNITS"/*.service "$UNITS"/*.timer; do
		sed "s|/usr/bin/cancelrun|$CANCELRUN|" "$f" \
		    >"$TMP/units/${f##*/}"
		n=$((n + 1))
	done
	[ "$n" -eq 3 ]
	cd "$TMP/units"
	run --separate-stderr timeout 120 systemd-analyze verify \
	    backup.service backup.timer app.service
	echo "status $status: $stderr"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	# It does catch a broken unit.
	sed 's/^KillMode=mixed/KillMode=mixd/' app.service >broken.service
	run --separate-stderr timeout 120 systemd-analyze verify broken.service
	[[ "$stderr" == *"kill mode"* ]]
}

@test "examples/systemd: the stop leaves room for cancelrun's grace; the deadline comes first" {
	local grace stop start timeout
	# backup.service: --timeout 2h --grace 30s in ExecStart.
	mapfile -d '' argv < <(exec_start "$UNITS/backup.service")
	[ "$(unit_value "$UNITS/backup.service" Type)" = oneshot ]
	[ "$(unit_value "$UNITS/backup.service" KillMode)" = mixed ]
	[ "${argv[1]}" = --timeout ] && [ "${argv[3]}" = --grace ]
	timeout=$(seconds "${argv[2]}")
	grace=$(seconds "${argv[4]}")
	stop=$(seconds "$(unit_value "$UNITS/backup.service" TimeoutStopSec)")
	start=$(seconds "$(unit_value "$UNITS/backup.service" TimeoutStartSec)")
	echo "backup: timeout $timeout grace $grace stop $stop start $start"
	[ "$stop" -gt "$grace" ]
	[ "$start" -gt $((timeout + grace)) ]
	# app.service: the grace is app.ini's.
	[ "$(unit_value "$UNITS/app.service" Type)" = notify ]
	[ "$(unit_value "$UNITS/app.service" KillMode)" = mixed ]
	[ "$(unit_value "$UNITS/app.service" NotifyAccess)" = main ]
	grace=$(seconds "$(unit_value "$UNITS/app.ini" grace)")
	stop=$(seconds "$(unit_value "$UNITS/app.service" TimeoutStopSec)")
	start=$(seconds "$(unit_value "$UNITS/app.service" TimeoutStartSec)")
	echo "app: grace $grace stop $stop start $start"
	[ "$stop" -gt "$grace" ]
	[ "$start" -gt "$(seconds "$(unit_value "$UNITS/app.ini" ready-timeout)")" ]
	# Its watchdog is answered: the service says --notify.
	mapfile -d '' argv < <(exec_start "$UNITS/app.service")
	[ "${argv[1]}" = --notify ]
	[ "$(unit_value "$UNITS/app.ini" notify)" = yes ]
	"$CANCELRUN" --check "$UNITS/app.ini"
}

@test "examples/systemd: backup.service's command line makes the archive" {
	local -a argv
	mkdir -p "$TMP/src/sub"
	echo data >"$TMP/src/sub/file"
	mapfile -d '' argv < <(exec_start "$UNITS/backup.service" \
	    BACKUP_SRC="$TMP/src" BACKUP_DEST="$TMP/app.tar.gz")
	echo "${argv[*]}"
	[ "${argv[0]}" = "$CANCELRUN" ]
	run env CR_TEST_MARK="$MARK" "${argv[@]}"
	[ "$status" -eq 0 ]
	tar -tzf "$TMP/app.tar.gz" | grep -qx './sub/file'
	no_survivors
}

@test "examples/systemd: app.service runs app.ini, READY=1 once the server answers, stops on TERM" {
	local port
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir "$TMP/www"
	echo hello >"$TMP/www/index.html"
	sed -e "s|/srv/www 8080\$|$TMP/www $port|" \
	    -e "s|127.0.0.1:8080\$|127.0.0.1:$port|" "$UNITS/app.ini" \
	    >"$TMP/app.ini"
	[ "$(grep -c "$port\$" "$TMP/app.ini")" -eq 2 ]
	mapfile -d '' argv < <(exec_start "$UNITS/app.service")
	[ "${argv[3]}" = /etc/cancelrun/app.ini ]
	argv[3]=$TMP/app.ini
	python3 "$TOP_SRCDIR/tests/cli/notifylisten.py" "@$MARK" \
	    "$TMP/log" "$TMP/listening" &
	BG_PIDS+=("$!")
	local listener=$!
	wait_file "$TMP/listening"
	# As systemd starts it: WatchdogSec=30s is WATCHDOG_USEC=30000000.
	start_bg env CR_TEST_MARK="$MARK" NOTIFY_SOCKET="@$MARK" \
	    WATCHDOG_USEC=30000000 "${argv[@]}"
	CR_PID=$BG_PID
	if ! wait_for grep -q 'READY=1' "$TMP/log"; then
		cat "$TMP/log" >&2
		cr_stderr
		false
	fi
	cat "$TMP/log"
	grep -q 'READY=1|STATUS=running .*web' "$TMP/log"
	# Ready means the server answers.
	python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=5).read().decode())' \
	    "$port" | grep -qx hello
	# systemctl stop under KillMode=mixed: TERM to cancelrun alone.
	kill -TERM "$CR_PID"
	wait_bg
	[ "$status" -eq 143 ] || { cat "$TMP/log"; cr_stderr; false; }
	wait_for grep -q 'STOPPING=1' "$TMP/log"
	kill "$listener"
	wait "$listener" 2>/dev/null || true
	# web got its own stop signal, INT, and nothing is left.
	grep -q 'web .*INT' "$TMP/err" || { cr_stderr; false; }
	assert_none_left
}
