#!/usr/bin/env bats
#
# sigall.bats - issue 8, items 3 to 6: every signal accounted for, the tree
# dies with cancelrun, cancelrun dies like the signal, nohup works.
#
# The command is sigrec, which records every signal it receives ("sig N"
# lines in a file, after "ready PID") and exits 0 on TERM.  Signals are
# sent with bash's kill by number, from 1 to `kill -l RTMAX`.

load helpers
bats_require_minimum_version 1.5.0

: "${SIGREC:?SIGREC must point at tests/cli/sigrec}"

# passed_signals: every signal cancelrun passes on: 1 to RTMAX but KILL,
# STOP, the four that cancel, the four of job control and CHLD.
passed_signals() {
	local n skip=" "
	for n in KILL STOP INT TERM HUP QUIT TSTP TTIN TTOU CONT CHLD; do
		skip+="$(kill -l "$n") "
	done
	for n in $(seq 1 "$(kill -l RTMAX)"); do
		case "$skip" in *" $n "*) continue ;; esac
		echo "$n"
	done
}

# got FILE N: sigrec recorded signal N in FILE.
got() {
	grep -qx "sig $2" "$1"
}

ready() {
	grep -q '^ready' "$1" 2>/dev/null
}

# send_each PID FILE: sends every passed signal to PID, one at a time, and
# checks that sigrec recorded each as itself.
send_each() {
	local n
	for n in $(passed_signals); do
		kill -"$n" "$1"
		if ! wait_for got "$2" "$n"; then
			echo "signal $n ($(kill -l "$n")) never reached the" \
			    "command" >&2
			cr_stderr
			return 1
		fi
	done
}

@test "every signal cancelrun does not act on reaches the command as itself" {
	start_bg env CR_TEST_MARK="$MARK" "$CANCELRUN" -- "$SIGREC" "$TMP/rec"
	CR_PID=$BG_PID
	wait_for ready "$TMP/rec"
	send_each "$CR_PID" "$TMP/rec"
	# None of them ended cancelrun or the command.
	still_running
	not got "$TMP/rec" 15
	kill -TERM "$CR_PID"
	wait_bg
	[ "$status" -eq 143 ]
	got "$TMP/rec" 15
	assert_none_left
}

@test "INT, TERM, HUP and QUIT cancel: 128+N, the command gets TERM" {
	local sig
	for sig in INT TERM HUP QUIT; do
		rm -f "$TMP/rec"
		start_bg env CR_TEST_MARK="$MARK" "$CANCELRUN" -- \
		    "$SIGREC" "$TMP/rec"
		wait_for ready "$TMP/rec"
		kill -"$sig" "$BG_PID"
		wait_bg
		echo "$sig: status $status, got: $(grep sig "$TMP/rec")"
		[ "$status" -eq $((128 + $(kill -l "$sig"))) ]
		[ "$(grep sig "$TMP/rec")" = "sig 15" ]
		grep -q "cancelled by signal $sig" "$TMP/err"
	done
	assert_none_left
}

@test "PID 1: every signal is passed on or cancels, as documented" {
	ns_start -- "$SIGREC" "$TMP/rec"
	wait_for ns_pid1
	wait_for ready "$TMP/rec"
	send_each "$CR_PID" "$TMP/rec"
	still_running
	kill -QUIT "$CR_PID"
	wait_bg
	# PID 1 exits 128+N rather than dying of it.
	[ "$status" -eq 131 ]
	got "$TMP/rec" 15
	assert_none_left
}

@test "cancelrun's own write to a closed pipe is not passed on as PIPE" {
	mkfifo "$TMP/pipe"
	head -n 1 <"$TMP/pipe" >"$TMP/head" &
	BG_PIDS+=("$!")
	local head=$!
	"$CANCELRUN" --output=prefix -- env CR_TEST_MARK="$MARK" \
	    "$SIGREC" "$TMP/rec" --ticks >"$TMP/pipe" 2>"$TMP/err" &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
	CR_PID=$BG_PID
	wait "$head"
	grep -q tick "$TMP/head"
	# Ticks go on reaching cancelrun, whose writes now fail.
	sleep 0.5
	still_running
	kill -TERM "$CR_PID"
	wait_bg
	cat "$TMP/rec"
	[ "$status" -eq 143 ]
	# The command's writes fail too once cancelrun has closed its pipe:
	# sigrec records those PIPEs as its own ("own 13"), not as sent.
	not got "$TMP/rec" "$(kill -l PIPE)"
	got "$TMP/rec" 15
	assert_none_left
}

# size_at_least FILE N: FILE holds N bytes or more.
size_at_least() {
	[ "$(stat -c %s "$1")" -ge "$2" ]
}

@test "cancelrun's own write past RLIMIT_FSIZE is not passed on as XFSZ" {
	start_bg bash -c 'ulimit -f 1; exec "$@"' _ "$CANCELRUN" \
	    --output=prefix -- env CR_TEST_MARK="$MARK" "$SIGREC" \
	    "$TMP/rec" --ticks
	CR_PID=$BG_PID
	wait_for ready "$TMP/rec"
	# 1 KiB of output at 5 bytes each 20 ms: past the limit in 4-5 s.
	wait_for size_at_least "$TMP/out" 1000
	sleep 0.5
	still_running
	kill -TERM "$CR_PID"
	wait_bg
	[ "$status" -eq 143 ]
	not got "$TMP/rec" "$(kill -l XFSZ)"
	got "$TMP/rec" 15
	assert_none_left
}

# group_gone PIDS...: none of PIDS is a live process.
group_gone() {
	local p
	for p in "$@"; do
		alive "$p" && return 1
	done
	return 0
}

# gone_within MS PIDS...: polls every 50 ms; fails unless all of PIDS are
# gone within MS milliseconds from now.
gone_within() {
	local limit="$1" t0 t
	shift
	t0=$(now_ms)
	while ! group_gone "$@"; do
		t=$(now_ms)
		if [ $((t - t0)) -gt "$limit" ]; then
			echo "still running $((t - t0)) ms after KILL:" >&2
			ps -o pid,ppid,pgid,sid,stat,args -p "$(echo "$@" |
			    tr ' ' ,)" >&2 || true
			return 1
		fi
		sleep 0.05
	done
	echo "gone after $(($(now_ms) - t0)) ms"
}

# own_session: a marked process leads a session of its own (setsid).
own_session() {
	local pid
	for pid in $(marked_pids); do
		[ "$(stat_field "$pid" 4)" = "$pid" ] && return 0
	done
	return 1
}

@test "kill -KILL of cancelrun: nothing of the command's group is left" {
	start_bg env CR_TEST_MARK="$MARK" "$CANCELRUN" -- sh -c \
	    'sleep 1000 & sleep 1000 & echo up > "$1"; wait' "$MARK" \
	    "$TMP/ready"
	CR_PID=$BG_PID
	wait_file "$TMP/ready"
	local pids
	wait_for n_marked_at_least 3 "$CR_PID"
	pids=$(marked_pids | grep -vx "$CR_PID")
	echo "tree: $pids"
	kill -KILL "$CR_PID"
	# 1 s, and a margin for a loaded machine.
	gone_within 1500 $pids
	assert_none_left
}

@test "kill -KILL of cancelrun: what the sweep saw outside the group dies too" {
	cat >"$TMP/cmd" <<-'EOF'
	trap '' TERM
	setsid sleep 1000 &
	sleep 1000 &
	echo up > "$1"
	wait
	EOF
	start_bg env CR_TEST_MARK="$MARK" "$CANCELRUN" -v -g 60s -- \
	    sh "$TMP/cmd" "$TMP/ready"
	CR_PID=$BG_PID
	wait_file "$TMP/ready"
	# "up" comes once setsid is started, not once it has left the group:
	# wait for a session of its own before the stop.
	if ! wait_for own_session; then
		echo "the setsid'd process never had a session of its own" >&2
		show_tree
		return 1
	fi
	# A stop with a long grace period: every process ignores TERM; the
	# sweep finds the setsid'd one outside the group.
	kill -INT "$CR_PID"
	if ! wait_for grep -q "and 1 outside it" "$TMP/err"; then
		cr_stderr
		return 1
	fi
	local pids
	pids=$(marked_pids | grep -vx "$CR_PID")
	echo "tree: $pids"
	[ "$(echo "$pids" | wc -w)" -ge 3 ]
	kill -KILL "$CR_PID"
	gone_within 1500 $pids
	assert_none_left
}

# session_has_sleep SID: a sleep runs in session SID.
session_has_sleep() {
	[ -n "$(pgrep -s "$1" -x sleep)" ]
}

@test "a bash loop over cancelrun ends on the first INT to its group" {
	start_bg env --default-signal=INT CR_TEST_MARK="$MARK" setsid bash -c \
	    'for i in 1 2 3; do "$0" -- sleep 5; echo next; done' "$CANCELRUN"
	local t0
	wait_for session_has_sleep "$BG_PID"
	t0=$(now_ms)
	kill -INT -- -"$BG_PID"
	wait_bg
	cat "$TMP/out" "$TMP/err"
	[ "$status" -eq 130 ]
	not grep -q next "$TMP/out"
	[ $(($(now_ms) - t0)) -lt 4000 ]
	assert_none_left
}

@test "nohup: HUP to cancelrun and to the command's group cancels nothing" {
	cat >"$TMP/cmd" <<-'EOF'
	echo $$ > "$1"
	sleep 1
	echo done > "$2"
	EOF
	start_bg env CR_TEST_MARK="$MARK" nohup "$CANCELRUN" -- \
	    sh "$TMP/cmd" "$TMP/ready" "$TMP/done"
	CR_PID=$BG_PID
	wait_file "$TMP/ready"
	kill -HUP "$CR_PID"
	kill -HUP -- -"$(cat "$TMP/ready")"
	wait_bg
	cat "$TMP/err"
	[ "$status" -eq 0 ]
	[ "$(cat "$TMP/done")" = done ]
	assert_none_left
}

@test "nohup: the command starts with HUP ignored" {
	run env CR_TEST_MARK="$MARK" nohup "$CANCELRUN" -- "$CHILDINFO"
	[ "$status" -eq 0 ]
	local ign
	ign=$(awk '$1 == "sigign" { print $2 }' <<<"$output")
	echo "sigign: $ign"
	# HUP is signal 1: the lowest bit.
	[ $((16#$ign & 1)) -eq 1 ]
}

# waitstatus CMD...: how CMD ended, as its parent sees it: "exited N" or
# "signaled N core|nocore".  TERM_AFTER (seconds) sends it TERM.
waitstatus() {
	python3 - "$@" <<-'EOF'
	import os, signal, subprocess, sys, time
	delay = float(os.environ.get("TERM_AFTER", "-1"))
	sig = getattr(signal, "SIG" + os.environ.get("SEND", "TERM"))
	p = subprocess.Popen(sys.argv[1:])
	if delay >= 0:
	    time.sleep(delay)
	    p.send_signal(sig)
	_, st = os.waitpid(p.pid, 0)
	if os.WIFSIGNALED(st):
	    print("signaled", os.WTERMSIG(st),
	          "core" if os.WCOREDUMP(st) else "nocore")
	else:
	    print("exited", os.WEXITSTATUS(st))
	EOF
}

@test "die like the signal: TERM received, the parent sees killed by TERM" {
	run bash -c '"$1" -q -- sleep 30 & sleep 0.5; kill -TERM $!; wait $!
	    echo $?' _ "$CANCELRUN"
	[ "$output" = 143 ]
	TERM_AFTER=0.5 run waitstatus env CR_TEST_MARK="$MARK" \
	    "$CANCELRUN" -q -- sleep 30
	[ "$output" = "signaled 15 nocore" ]
	# QUIT's default makes a core file: not ours.
	SEND=QUIT TERM_AFTER=0.5 run waitstatus env CR_TEST_MARK="$MARK" \
	    "$CANCELRUN" -q -- sleep 30
	[ "$output" = "signaled 3 nocore" ]
	assert_none_left
}

@test "die like the signal: the command's own death, not a deadline's" {
	run waitstatus "$CANCELRUN" -- sh -c 'kill -USR1 $$'
	[ "$output" = "signaled 10 nocore" ]
	run waitstatus "$CANCELRUN" -q -t 0.2s -- sleep 30
	[ "$output" = "exited 124" ]
	run waitstatus "$CANCELRUN" -- sh -c 'exit 3'
	[ "$output" = "exited 3" ]
	# --preserve-status after a deadline: the status, as timeout(1).
	run waitstatus "$CANCELRUN" -q --preserve-status -t 0.2s -- sleep 30
	[ "$output" = "exited 143" ]
}

@test "die like the signal: a job file cancelled by INT" {
	cat >"$TMP/jobs.ini" <<-EOF
	[cancelrun]
	[job:a]
	command = sleep 30
	[job:b]
	command = sleep 30
	EOF
	SEND=INT TERM_AFTER=0.5 run waitstatus env CR_TEST_MARK="$MARK" \
	    "$CANCELRUN" -q -f "$TMP/jobs.ini"
	[ "$output" = "signaled 2 nocore" ]
	assert_none_left
}

@test "die like the signal, as PID 1: exit status 143 instead" {
	ns_start -- "$SIGREC" "$TMP/rec"
	wait_for ns_pid1
	wait_for ready "$TMP/rec"
	kill -TERM "$CR_PID"
	wait_bg
	[ "$status" -eq 143 ]
	got "$TMP/rec" 15
}
