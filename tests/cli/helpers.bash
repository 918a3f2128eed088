# helpers.bash - shared set-up for the command-line tests (bats).
#
# Every test gets a unique MARK.  The processes a test starts carry it in
# their argv (for example as the $0 of `sh -c '...' "$MARK"`) or in their
# environment (`env CR_TEST_MARK="$MARK" ...`), so that marked_pids finds
# them from the outside and teardown kills whatever is left, by PID, never
# by name.  MARK is deliberately not exported: the test's own helpers must
# not carry it.  A test that expects nothing to be left asserts
# `no_survivors`.

: "${CANCELRUN:?CANCELRUN must point at the binary under test}"

setup() {
	MARK="crtest-$$-${BATS_TEST_NUMBER}-${RANDOM}${RANDOM}"
	TMP="$(mktemp -d "${BATS_TMPDIR:-/tmp}/crtest.XXXXXX")"
	BG_PIDS=()
}

teardown() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	kill_marked
	rm -rf "$TMP"
}

# not CMD...: succeeds if CMD fails.  In a test, `! CMD` can never fail
# it: bash's errexit ignores a pipeline negated with `!`.
not() {
	! "$@"
}

# marked_pids [MARK]: PIDs of processes whose argv or environment contains
# MARK, in one grep over /proc (a zombie has neither, so only live ones).
# The shell running the test and this subshell are left out.  An empty
# MARK would match every process: it is refused.
marked_pids() {
	local mark="${1:-${MARK:-}}" self=$BASHPID files
	if [ -z "$mark" ]; then
		echo "marked_pids: no MARK (was setup() replaced?)" >&2
		return 1
	fi
	files=(/proc/[0-9]*/cmdline /proc/[0-9]*/environ)
	grep -laF -- "$mark" "${files[@]}" 2>/dev/null | cut -d/ -f3 |
	    sort -un | grep -vx -e "$$" -e "$self" || true
}

# stat_field PID N: field N of /proc/PID/stat counted after the command
# name, which may hold blanks: 1 state, 2 ppid, 3 pgrp, 4 session.
stat_field() {
	local line f
	{ read -r line < "/proc/$1/stat"; } 2>/dev/null || return 1
	line=${line##*) }
	read -r -a f <<< "$line"
	echo "${f[$2 - 1]}"
}

# alive PID: PID exists and is not a zombie.
alive() {
	local s
	s=$(stat_field "$1" 1) || return 1
	[ "$s" != Z ] && [ "$s" != X ]
}

# now_ms: milliseconds since the epoch.
now_ms() {
	echo $((${EPOCHREALTIME/./} / 1000))
}

# zombie_children PID: zombies whose parent is PID.
zombie_children() {
	local dir
	for dir in /proc/[0-9]*; do
		awk -v p="$1" '$4 == p && $3 == "Z" { print $1 }' "$dir/stat" 2>/dev/null
	done
}

# kill_marked [MARK]: SIGKILL every process carrying MARK, by PID.
kill_marked() {
	local pid
	for pid in $(marked_pids "$@"); do
		kill -CONT "$pid" 2>/dev/null || true
		kill -KILL "$pid" 2>/dev/null || true
	done
}

# no_survivors [MARK]: fails, listing them, if marked processes remain.  A
# process that was just KILLed may linger a moment before its parent reaps
# it, so look again for up to 2 seconds before failing.
no_survivors() {
	local left i
	for i in $(seq 1 20); do
		left="$(marked_pids "$@")" || return 1
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "processes left running:" >&2
	local pid
	for pid in $left; do
		echo "  $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)" >&2
	done
	return 1
}

# wait_for COND_CMD...: retry a command for up to 10 seconds (0.05 s steps).
# The words are expanded once, by the caller: a condition on something
# that changes must be a command that looks again each time (a function
# such as has_children or n_marked_at_least), never `test "$(...)"`.
wait_for() {
	local i
	for i in $(seq 1 200); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# wait_file FILE: wait (up to 10 s) until FILE exists and is not empty.
wait_file() {
	wait_for test -s "$1"
}

# start_bg CMD...: run CMD in the background with output to $TMP/out and
# $TMP/err; sets BG_PID and records it for teardown.
start_bg() {
	"$@" >"$TMP/out" 2>"$TMP/err" &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

# bg_threads PID: what each thread of PID is doing (state, kernel wait
# channel, system call), for the message of a test that waited too long.
bg_threads() {
	local t
	for t in /proc/"$1"/task/*; do
		echo "  thread ${t##*/}: $(stat_field "${t##*/}" 1)" \
		    "wchan $(cat "$t/wchan" 2>/dev/null)" \
		    "syscall $(cut -d' ' -f1-2 "$t/syscall" 2>/dev/null)"
	done
}

# wait_bg: wait for BG_PID (bounded: 30 s, then it is killed and the test
# fails); sets status.  Whether it still runs is asked once per round, of
# one reading of its state: a zombie may be reaped by this shell at any
# moment, and a second look could find it gone and take that for running.
wait_bg() {
	local end=$((SECONDS + 30))
	# Counted in seconds, not in rounds: on a loaded machine a round
	# takes far longer than its 0.05 s sleep.
	while alive "$BG_PID"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "background process $BG_PID did not finish in 30 s" >&2
			bg_threads "$BG_PID" >&2
			kill -KILL "$BG_PID" 2>/dev/null
			wait "$BG_PID" 2>/dev/null || true
			return 1
		fi
		sleep 0.05
	done
	status=0
	wait "$BG_PID" || status=$?
}

# n_marked_at_least N [PID]: N or more marked processes are running,
# not counting PID.
n_marked_at_least() {
	[ "$(marked_pids | grep -vx "${2:-0}" | wc -l)" -ge "$1" ]
}

# has_children PID: PID has a child.
has_children() {
	[ -n "$(children_of "$1")" ]
}

# children_of PID: direct children (from /proc/*/stat).
children_of() {
	local dir
	for dir in /proc/[0-9]*; do
		awk -v p="$1" '$4 == p { print $1 }' "$dir/stat" 2>/dev/null
	done
}

# The helpers below serve tests that start cancelrun in the background with
# CR_PID set and its output in $TMP/out and $TMP/err.

# cr_stderr: cancelrun's output, for a failure message.
cr_stderr() {
	if [ -s "$TMP/out" ]; then
		echo "--- cancelrun stdout:" >&2
		cat "$TMP/out" >&2 || true
	fi
	echo "--- cancelrun stderr:" >&2
	cat "$TMP/err" >&2 || true
}

# show_tree: what is left, for a failure message.
show_tree() {
	local pids
	pids=$( (marked_pids; echo "${CR_PID:-}") | grep . | paste -sd, -)
	[ -n "$pids" ] || return 0
	ps -o pid,ppid,pgid,sid,stat,args -p "$pids" >&2 || true
}

# still_running: cancelrun has not returned yet (the tree was checked while
# it was still in charge).
still_running() {
	if ! alive "$CR_PID"; then
		echo "cancelrun had already returned when the tree" \
		    "was checked" >&2
		cr_stderr
		return 1
	fi
}

# assert_none_left: no_survivors, with the survivors and cancelrun's output
# on failure.
assert_none_left() {
	local pids
	if ! no_survivors; then
		pids=$(marked_pids | paste -sd, -)
		echo "--- survivors:" >&2
		[ -z "$pids" ] ||
		    ps -o pid,ppid,pgid,sid,stat,wchan:16,args -p "$pids" >&2 ||
		    true
		cr_stderr
		return 1
	fi
}

# --- a run of cancelrun in the background, its output and its report ------
#
# cr_start and cr_wait run cancelrun with output in $TMP/out and $TMP/err;
# a test that asks for a report puts it in $TMP/r.json.  A test file may
# set CR_OPTS (an array: options for every run) and CR_AFTER (a command
# cr_wait runs at the end, to digest the report).

# find_python: sets and exports CR_PYTHON, the interpreter itself.  A
# version manager's python3 may be a shell script that takes a second to
# start on a busy machine, so a file that uses Python in many tests calls
# this once, from setup_file.
find_python() {
	CR_PYTHON=$(python3 -c 'import sys; print(sys.executable)')
	export CR_PYTHON
}

# jobfile NAME: standard input to $TMP/NAME.ini, with @MARK@ and @TMP@
# replaced.
jobfile() {
	sed -e "s|@MARK@|$MARK|g" -e "s|@TMP@|$TMP|g" >"$TMP/$1.ini"
}

# cr_start ARGS...: start cancelrun with CR_OPTS and ARGS in the
# background, marked through its environment; sets CR_PID and CR_T0.  INT
# is reset to its default (bash starts background jobs with INT ignored;
# that case belongs to signals.bats).
cr_start() {
	CR_T0=$(now_ms)
	start_bg env --default-signal=INT CR_TEST_MARK="$MARK" \
	    "$CANCELRUN" ${CR_OPTS[@]+"${CR_OPTS[@]}"} "$@"
	CR_PID=$BG_PID
}

# ns_start ARGS...: as cr_start, but cancelrun is PID 1 of new PID and
# mount namespaces: NS_PID is the unshare process, and ns_pid1 finds
# cancelrun's host-side PID once it runs.
ns_start() {
	CR_T0=$(now_ms)
	CR_PID=
	start_bg env --default-signal=INT CR_TEST_MARK="$MARK" \
	    unshare --pid --fork --mount-proc "$CANCELRUN" "$@"
	NS_PID=$BG_PID
}

# ns_pid1: sets CR_PID to the host-side PID of the namespace's PID 1 (the
# child of NS_PID); fails while there is none.
ns_pid1() {
	local t x
	CR_PID=
	for t in /proc/"$NS_PID"/task/*/children; do
		{ read -r x _ <"$t"; } 2>/dev/null || true
		[ -n "$x" ] && CR_PID=$x
	done
	[ -n "$CR_PID" ]
}

# cr_wait: wait for it (at most 30 s); sets status and CR_MS (its run
# time), prints what it did (seen when the test fails), then runs CR_AFTER.
cr_wait() {
	wait_bg
	CR_MS=$(($(now_ms) - CR_T0))
	show_run
	${CR_AFTER:+$CR_AFTER}
}

# cr ARGS...: run cancelrun with ARGS to its end.
cr() {
	cr_start "$@"
	cr_wait
}

# crf NAME ARGS...: run job file $TMP/NAME.ini to its end, with a report in
# $TMP/r.json.
crf() {
	local name=$1
	shift
	cr -f "$TMP/$name.ini" --report "$TMP/r.json" "$@"
}

# show_run: the status, run time, output and report of the last run.
show_run() {
	echo "status: ${status-} (${CR_MS-?} ms)"
	echo "--- stdout:"
	head -c 3000 "$TMP/out" 2>/dev/null || true
	echo "--- stderr:"
	head -c 3000 "$TMP/err" 2>/dev/null || true
	if [ -e "$TMP/r.json" ]; then
		echo "--- report:"
		cat "$TMP/r.json"
	fi
}

# expect_status N: the last run ended with status N.
expect_status() {
	if [ "$status" != "$1" ]; then
		echo "cancelrun exited $status, expected $1" >&2
		return 1
	fi
}
