#!/usr/bin/env bats
#
# eperm.bats - issue 9, items 4 and 7: a process that refuses the stop
# signals is named and not waited for; a job that cannot start says what
# could not be done, with the status of the single-command contract.
#
# The EPERM cases build rootsleep (tests/cli/rootsleep.c) in a scratch
# directory, make it setuid root, and run cancelrun as nobody: rootsleep
# takes root as all of its user IDs and prints its PID, after which nobody
# may signal it.  They need root and a directory without nosuid, and skip
# with the reason otherwise.  rootsleep carries the test's MARK among its
# (ignored) arguments, so teardown, which runs as root, kills it by PID.
# Bounds are wide: a run with a 1 s deadline and a 1 s grace must end
# within 5 s where rootsleep would sleep 60.

load helpers
bats_require_minimum_version 1.5.0

: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"

# Python reads what cancelrun wrote (find_python: the interpreter, once).
setup_file() {
	find_python
}

# as_nobody CMD...: CMD with nobody's user and group IDs and no others
# (the command in AS_NOBODY, set by need_rootsleep).
as_nobody() {
	"${AS_NOBODY[@]}" "$@"
}

# mount_opts DIR: the options of the mount DIR is on (the longest mount
# point in /proc/mounts that holds it).
mount_opts() {
	local dir best="" opts="" mnt o
	dir=$(cd "$1" && pwd -P)
	while read -r _ mnt _ o _; do
		case "$dir/" in
		"${mnt%/}"/*)
			if [ "${#mnt}" -ge "${#best}" ]; then
				best=$mnt
				opts=$o
			fi
			;;
		esac
	done </proc/mounts
	echo "$opts"
}

# need_rootsleep: sets ROOTSLEEP to a setuid-root rootsleep that nobody
# can run and that really becomes root, in a scratch directory that nobody
# can enter (tried: $TMP, then /var/tmp, then the current directory), and
# RUNDIR to a directory next to it that nobody may write.  Skips with the
# reason when that cannot be had.
need_rootsleep() {
	local cc=${CC:-cc} base dir why=""
	[ "$(id -u)" -eq 0 ] ||
	    skip "needs root to make a setuid-root helper (running as uid $(id -u))"
	id nobody >/dev/null 2>&1 || skip "there is no user 'nobody'"
	if command -v setpriv >/dev/null; then
		AS_NOBODY=(setpriv --reuid=nobody --regid="$(id -g nobody)"
		    --clear-groups)
	elif command -v runuser >/dev/null; then
		AS_NOBODY=(runuser -u nobody -g "$(id -gn nobody)" --)
	else
		skip "needs setpriv or runuser to run cancelrun as nobody"
	fi
	command -v "$cc" >/dev/null ||
	    skip "no C compiler ('$cc') for the helper"
	for base in "$TMP" /var/tmp "$PWD"; do
		[ -d "$base" ] && [ -w "$base" ] || continue
		case ",$(mount_opts "$base")," in
		*,nosuid,*)
			why="$why $base is on a nosuid mount;"
			continue
			;;
		esac
		if [ "$base" = "$TMP" ]; then
			dir=$TMP/suid
			mkdir "$dir"
		else
			dir=$(mktemp -d "$base/crtest-suid.XXXXXX")
			EXTRA_DIRS+=("$dir")
		fi
		chmod 755 "$TMP" "$dir"
		"$cc" -o "$dir/rootsleep" "$TOP_SRCDIR/tests/cli/rootsleep.c" ||
		    skip "cannot compile tests/cli/rootsleep.c with $cc"
		chmod 4755 "$dir/rootsleep"
		mkdir -m 1777 "$dir/run"
		# Does it work: started by nobody, it must become root.
		if [ "$(as_nobody "$dir/rootsleep" 0 "$MARK" 2>/dev/null)" \
		    -gt 0 ] 2>/dev/null; then
			ROOTSLEEP=$dir/rootsleep
			RUNDIR=$dir/run
			as_nobody test -x "$CANCELRUN" ||
			    skip "nobody cannot run $CANCELRUN"
			return 0
		fi
		why="$why setuid does not take effect in $dir;"
	done
	skip "no directory where a setuid helper works:$why"
}

teardown() {
	local pid d
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	# rootsleep, by PID: as root we may.
	kill_marked
	for d in "${EXTRA_DIRS[@]}"; do
		rm -rf "$d"
	done
	rm -rf "$TMP"
}

# cr_nobody ARGS...: start cancelrun as nobody in the background, in
# RUNDIR, marked through its environment; output in $TMP/out, $TMP/err.
cr_nobody() {
	CR_T0=$(now_ms)
	cd "$RUNDIR"
	start_bg "${AS_NOBODY[@]}" env CR_TEST_MARK="$MARK" "$CANCELRUN" "$@"
	cd - >/dev/null
	CR_PID=$BG_PID
}

# rootsleep_pid: the PID rootsleep printed (the first line on stdout that
# ends in a number, with or without a "[job] " prefix), waiting up to 10 s.
rootsleep_pid() {
	local i pid
	for i in $(seq 1 200); do
		pid=$(grep -oE '[0-9]+$' "$TMP/out" 2>/dev/null | head -1)
		if [ -n "$pid" ]; then
			echo "$pid"
			return 0
		fi
		sleep 0.05
	done
	echo "rootsleep printed no PID" >&2
	cr_stderr
	return 1
}

# fail_with MSG: print MSG and cancelrun's output, and fail.
fail_with() {
	echo "$*" >&2
	cr_stderr
	return 1
}

# report_check ARGS...: run the Python on standard input with the report
# and ARGS as arguments.
report_check() {
	"$CR_PYTHON" - "$RUNDIR/r.json" "$@"
}

@test "eperm: a setuid command that refuses TERM and KILL is named, not waited for" {
	need_rootsleep
	cr_nobody -v -t 1 -g 1 --report r.json -- "$ROOTSLEEP" 60 "$MARK"
	pid=$(rootsleep_pid)
	cr_wait
	[ "$status" -eq 124 ] || fail_with "status $status, expected 124"
	[ "$CR_MS" -lt 5000 ] ||
	    fail_with "took ${CR_MS} ms, expected < 5000 (1 s + 1 s grace + 3)"
	# It really was left running: the bound is not an accident.
	alive "$pid" || fail_with "rootsleep $pid is gone: nothing to prove"
	grep -qE "^cancelrun: cannot send TERM to process $pid \(.*rootsleep 60 .*\): Operation not permitted$" "$TMP/err" ||
	    fail_with "no TERM refusal named for $pid"
	grep -qE "^cancelrun: cannot send KILL to process $pid \(.*\): Operation not permitted$" "$TMP/err" ||
	    fail_with "no KILL refusal named for $pid"
	[ "$(grep -c "cannot send TERM to process $pid" "$TMP/err")" -eq 1 ] ||
	    fail_with "the TERM refusal was told more than once"
	grep -qE "^cancelrun: 1 process could not be stopped: $pid \(.*rootsleep.*\)$" "$TMP/err" ||
	    fail_with "the survivor is not named"
	# -v never claims that a signal reached it.
	if grep -E "sent (TERM|KILL)" "$TMP/err"; then
		fail_with "a signal is claimed as sent"
	fi
	grep -q "timed out after 1s; it could not be stopped" "$TMP/err" ||
	    fail_with "the summary line does not say it could not be stopped"
	report_check "$pid" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
assert r["status"] == 124, r
(j,) = r["jobs"]
assert j["state"] == "cancelled" and j["cause"] == "timeout", j
assert [s["pid"] for s in j["survivors"]] == [pid], j
assert "rootsleep" in j["survivors"][0]["command"], j
assert j["signals_sent"] == [], j
assert r["orphan_survivors"] == [], r
EOF
}

@test "eperm: without -v the refusal and the survivor are still told" {
	need_rootsleep
	cr_nobody -t 1 -g 1 -- "$ROOTSLEEP" 60 "$MARK"
	pid=$(rootsleep_pid)
	cr_wait
	[ "$status" -eq 124 ] || fail_with "status $status, expected 124"
	[ "$CR_MS" -lt 5000 ] || fail_with "took ${CR_MS} ms, expected < 5000"
	grep -qE "^cancelrun: cannot send TERM to process $pid " "$TMP/err" ||
	    fail_with "no TERM refusal named for $pid"
	grep -qE "^cancelrun: 1 process could not be stopped: $pid " "$TMP/err" ||
	    fail_with "the survivor is not named"
}

# group_size PGID: live processes in process group PGID.
group_size() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$1" '
	    { sub(/.*\) /, ""); if ($3 == g && $1 != "Z") n++ }
	    END { print n + 0 }'
}

# group_size_is PGID N
group_size_is() {
	[ "$(group_size "$1")" -eq "$2" ]
}

@test "eperm: a setuid grandchild survives, the rest of the job is stopped" {
	need_rootsleep
	# A 3 s deadline: time to see the whole tree up first.
	cr_nobody -v -t 3 -g 1 --report r.json -- \
	    sh -c '"$1" 60 "$0" & sleep 100; :' "$MARK" "$ROOTSLEEP"
	pid=$(rootsleep_pid)
	# What of the job runs, as root sees it: sh, sleep and rootsleep.
	pgid=$(stat_field "$pid" 3)
	wait_for group_size_is "$pgid" 3 || fail_with \
	    "expected 3 processes in group $pgid, saw $(group_size "$pgid")"
	still_running
	cr_wait
	[ "$status" -eq 124 ] || fail_with "status $status, expected 124"
	[ "$CR_MS" -lt 7000 ] || fail_with "took ${CR_MS} ms, expected < 7000"
	alive "$pid" || fail_with "rootsleep $pid is gone: nothing to prove"
	# The sh and its sleep are gone; the survivor is all that is left.
	left=$(marked_pids | grep -vx "$pid" || true)
	[ -z "$left" ] || fail_with "left running besides rootsleep: $left"
	grep -qE "^cancelrun: cannot send TERM to process $pid \(.*\): Operation not permitted$" "$TMP/err" ||
	    fail_with "no TERM refusal named for $pid"
	grep -qE "^cancelrun: 1 process could not be stopped: $pid " "$TMP/err" ||
	    fail_with "the survivor is not named"
	# The TERM that reached the others is told, without rootsleep: 2,
	# or 1 when the sleep died and was reaped with its shell before the
	# sweep could count it (a slow sanitizer build); never 3.
	n=$(sed -nE 's/.*sent TERM to ([0-9]+) process.*/\1/p' "$TMP/err")
	[ "$n" = 2 ] || [ "$n" = 1 ] ||
	    fail_with "sent TERM to '$n' processes, expected 2 (or 1), not 3"
	report_check "$pid" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
assert r["status"] == 124, r
(j,) = r["jobs"]
assert j["state"] == "cancelled" and j["signal"] == "TERM", j
assert [s["pid"] for s in j["survivors"]] == [pid], j
assert j["signals_sent"] == ["TERM"], j
EOF
}

@test "eperm: job file: the refusing job names its survivor, its sibling stops" {
	need_rootsleep
	cat >"$RUNDIR/j.ini" <<EOF
[cancelrun]
timeout = 1s
grace = 1s

[job:root]
command = $ROOTSLEEP 60 $MARK

[job:plain]
command = sleep 100
EOF
	chmod 644 "$RUNDIR/j.ini"
	cr_nobody -f j.ini --report r.json
	pid=$(rootsleep_pid)
	cr_wait
	[ "$status" -eq 124 ] || fail_with "status $status, expected 124"
	[ "$CR_MS" -lt 5000 ] || fail_with "took ${CR_MS} ms, expected < 5000"
	alive "$pid" || fail_with "rootsleep $pid is gone: nothing to prove"
	grep -qE "^cancelrun: job 'root': cannot send TERM to process $pid \(.*\): Operation not permitted$" "$TMP/err" ||
	    fail_with "no TERM refusal named for $pid"
	grep -qE "^cancelrun: job 'root': 1 process could not be stopped: $pid " "$TMP/err" ||
	    fail_with "the survivor is not named"
	grep -qE "^root +cancelled +timeout +not stopped" "$TMP/err" ||
	    fail_with "the table does not say 'not stopped'"
	left=$(marked_pids | grep -vx "$pid" || true)
	[ -z "$left" ] || fail_with "left running besides rootsleep: $left"
	report_check "$pid" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
pid = int(sys.argv[2])
assert r["status"] == 124, r
j = {x["name"]: x for x in r["jobs"]}
assert [s["pid"] for s in j["root"]["survivors"]] == [pid], j
assert j["root"]["exit"] is None and j["root"]["signals_sent"] == [], j
assert j["plain"]["survivors"] == [], j
assert j["plain"]["signal"] == "TERM", j
EOF
}

@test "eperm: as timeout, a refused signal is named, never said to be sent" {
	need_rootsleep
	ln -s "$CANCELRUN" "$RUNDIR/timeout"
	CR_T0=$(now_ms)
	cd "$RUNDIR"
	start_bg "${AS_NOBODY[@]}" ./timeout -v -k 1 1 "$ROOTSLEEP" 3 "$MARK"
	cd - >/dev/null
	CR_PID=$BG_PID
	pid=$(rootsleep_pid)
	cr_wait
	# As GNU timeout, it waits for the command, which ends by itself.
	[ "$status" -eq 124 ] || fail_with "status $status, expected 124"
	grep -qE "^timeout: cannot send TERM to process $pid \(.*\): Operation not permitted$" "$TMP/err" ||
	    fail_with "no TERM refusal named for $pid"
	grep -qE "^timeout: cannot send KILL to process $pid " "$TMP/err" ||
	    fail_with "no KILL refusal named for $pid"
	if grep "sending signal" "$TMP/err"; then
		fail_with "a refused signal is said to be sent"
	fi
}

# Errors in starting a job (item 7): no root needed.

# jobfile_run STATUS NAME [ARGS...]: run $TMP/NAME.ini with a report in
# $TMP/r.json, expecting exit STATUS; sets output and stderr.
jobfile_run() {
	run "-$1" --separate-stderr env CR_TEST_MARK="$MARK" \
	    "$CANCELRUN" -f "$TMP/$2.ini" --report "$TMP/r.json" "${@:3}"
}

@test "start: a missing cwd is named for its job and gives 125" {
	cat >"$TMP/cwd.ini" <<EOF
[cancelrun]
mode = supervise

[job:nocwd]
cwd = $TMP/no/such/dir
command = touch $TMP/ran

[job:fine]
command = true
EOF
	jobfile_run 1 cwd
	[ ! -e "$TMP/ran" ]
	echo "$stderr" | grep -qxF "cancelrun: job 'nocwd': cwd '$TMP/no/such/dir': No such file or directory"
	if echo "$stderr" | grep "not found"; then
		echo "a missing cwd reads as 'not found'" >&2
		return 1
	fi
	echo "$stderr" | grep -qE "^nocwd +failed +- +125 bad cwd "
	"$CR_PYTHON" - "$TMP/r.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
j = {x["name"]: x for x in r["jobs"]}
assert j["nocwd"]["state"] == "failed" and j["nocwd"]["exit"] == 125, j
assert j["fine"]["exit"] == 0, j
assert r["status"] == 1, r
EOF
	# The job's own status passes through on request.
	jobfile_run 125 cwd --exit-code=first-failure
}

@test "start: a missing program is named for its job and gives 127" {
	cat >"$TMP/nf.ini" <<EOF
[job:missing]
command = nosuchprog-$MARK arg

[job:other]
command = sleep 60
EOF
	jobfile_run 127 nf -q --exit-code=first-failure
	echo "$stderr" | grep -qxF "cancelrun: job 'missing': cannot run 'nosuchprog-$MARK': No such file or directory"
	"$CR_PYTHON" - "$TMP/r.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
j = {x["name"]: x for x in r["jobs"]}
assert j["missing"]["state"] == "failed" and j["missing"]["exit"] == 127, j
assert j["other"]["state"] == "cancelled", j
assert r["status"] == 127, r
EOF
	jobfile_run 1 nf
	echo "$stderr" | grep -qE "^missing +failed +- +127 not found "
	no_survivors
}

@test "start: a file that cannot be executed gives 126, named" {
	printf '#!/bin/sh\ntouch %s/ran\n' "$TMP" >"$TMP/noexec"
	chmod 644 "$TMP/noexec"
	cat >"$TMP/nx.ini" <<EOF
[job:noexec]
command = $TMP/noexec
EOF
	jobfile_run 1 nx
	[ ! -e "$TMP/ran" ]
	echo "$stderr" | grep -qxF "cancelrun: job 'noexec': cannot run '$TMP/noexec': Permission denied"
	echo "$stderr" | grep -qE "^noexec +failed +- +126 cannot run "
	"$CR_PYTHON" - "$TMP/r.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
(j,) = r["jobs"]
assert j["state"] == "failed" and j["exit"] == 126, j
EOF
}

@test "start: single command: missing 127, not executable 126, each named once" {
	run -127 --separate-stderr "$CANCELRUN" --report "$TMP/r.json" -- \
	    "nosuchprog-$MARK"
	[ "$status" -eq 127 ]
	[ "$stderr" = "cancelrun: cannot run 'nosuchprog-$MARK': No such file or directory" ]
	"$CR_PYTHON" -c 'import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
assert j["exit"] == 127, j' "$TMP/r.json"
	printf '#!/bin/sh\n' >"$TMP/noexec"
	chmod 644 "$TMP/noexec"
	run -126 --separate-stderr "$CANCELRUN" --report "$TMP/r.json" -- \
	    "$TMP/noexec"
	[ "$status" -eq 126 ]
	[ "$stderr" = "cancelrun: cannot run '$TMP/noexec': Permission denied" ]
	"$CR_PYTHON" -c 'import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]
assert j["exit"] == 126, j' "$TMP/r.json"
}
