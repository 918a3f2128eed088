#!/usr/bin/env bats
#
# notify.bats - issue 13, item 1: systemd's notification protocol.
#
# A Python datagram socket (tests/cli/notifylisten.py) stands in for
# systemd: bound at a file path or at an abstract @name, it logs each
# datagram with the sender's PID (SCM_CREDENTIALS, as systemd reads it).
# The tests assert what cancelrun sends (READY=1, STATUS=, STOPPING=1,
# WATCHDOG=1), in which order, from which process, and what the command
# sees of NOTIFY_SOCKET and the watchdog variables.  The listener is
# killed by PID in teardown (BG_PIDS).

load helpers
bats_require_minimum_version 1.5.0

: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"

# listen ADDR: starts the listener at ADDR, logging to $TMP/log, and waits
# until it is bound.
listen() {
	: >"$TMP/log"
	python3 "$TOP_SRCDIR/tests/cli/notifylisten.py" "$1" "$TMP/log" \
	    "$TMP/listening" "$MARK" &
	LISTEN_PID=$!
	BG_PIDS+=("$LISTEN_PID")
	if ! wait_file "$TMP/listening"; then
		echo "the listener never bound $1" >&2
		return 1
	fi
}

# none_left: the listener is stopped (by PID), and nothing else marked
# is left.
none_left() {
	kill "$LISTEN_PID" 2>/dev/null || true
	wait "$LISTEN_PID" 2>/dev/null || true
	assert_none_left
}

# msgs: the messages received, one datagram a line, without the PID.
msgs() {
	cut -f2- "$TMP/log"
}

# first KEY=VALUE-REGEX: the number of the first datagram holding a line
# that matches ^REGEX$ (0: none).
first() {
	awk -F'\t' -v re="^$1\$" '{
		n = split($2, l, "|")
		for (i = 1; i <= n; i++)
			if (l[i] ~ re) { print NR; exit }
	}' "$TMP/log" | grep . || echo 0
}

# count REGEX: how many datagrams hold a line matching ^REGEX$.
count() {
	awk -F'\t' -v re="^$1\$" '{
		n = split($2, l, "|")
		for (i = 1; i <= n; i++)
			if (l[i] ~ re) { c++; break }
	} END { print c + 0 }' "$TMP/log"
}

# has_msg REGEX: some datagram holds a line matching ^REGEX$.
has_msg() {
	[ "$(first "$1")" -gt 0 ]
}

show() {
	echo "--- messages:" >&2
	cat "$TMP/log" >&2 || true
	cr_stderr
}

# envdump FILE: a command line that writes the notify variables it sees
# to FILE, one a line ("NAME=value", or "NAME unset"), then sleeps.
envdump_script() {
	cat >"$TMP/envdump" <<'EOF'
for v in NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID; do
	eval "x=\${$v-unset}"
	if [ "$x" = unset ]; then echo "$v unset"; else echo "$v=$x"; fi
done > "$1.tmp"
mv "$1.tmp" "$1"
exec sleep "$2"
EOF
}

@test "--notify: READY=1 once started, STATUS= names it, STOPPING=1 at the deadline, from cancelrun" {
	listen "@$MARK"
	envdump_script
	start_bg env NOTIFY_SOCKET="@$MARK" WATCHDOG_USEC=10000000 \
	    "$CANCELRUN" --notify -t 1.5s -- sh "$TMP/envdump" "$TMP/env" 30
	CR_PID=$BG_PID
	wait_bg
	[ "$status" -eq 124 ] || { show; false; }
	wait_for has_msg 'STATUS=stopping.*nothing running' || { show; false; }
	show 2>&1
	local ready stopping
	ready=$(first 'READY=1')
	stopping=$(first 'STOPPING=1')
	[ "$ready" -gt 0 ]
	[ "$stopping" -gt "$ready" ]
	[ "$(count 'READY=1')" -eq 1 ]
	[ "$(count 'STOPPING=1')" -eq 1 ]
	# READY=1 comes with what runs; STOPPING=1 with why.
	sed -n "${ready}p" "$TMP/log" | grep -q 'STATUS=running sh$'
	sed -n "${stopping}p" "$TMP/log" | grep -q 'STATUS=stopping (timeout): running sh'
	# Every datagram came from cancelrun itself, none from the command.
	[ "$(cut -f1 "$TMP/log" | sort -u)" = "$CR_PID" ]
	# The command sees none of it: cancelrun speaks for it.
	wait_file "$TMP/env"
	cat "$TMP/env"
	[ "$(cat "$TMP/env")" = "$(printf '%s unset\n' NOTIFY_SOCKET \
	    WATCHDOG_USEC WATCHDOG_PID)" ]
	none_left
}

@test "--notify at a socket path: STOPPING=1 when cancelrun gets TERM, exit 143" {
	listen "$TMP/notify.sock"
	start_bg env NOTIFY_SOCKET="$TMP/notify.sock" "$CANCELRUN" --notify \
	    -- sh -c 'echo up > "$1"; exec sleep 30' "$MARK" "$TMP/up"
	CR_PID=$BG_PID
	wait_file "$TMP/up"
	wait_for has_msg 'READY=1' || { show; false; }
	not has_msg 'STOPPING=1'
	kill -TERM "$CR_PID"
	wait_bg
	[ "$status" -eq 143 ] || { show; false; }
	wait_for has_msg 'STATUS=stopping.*nothing running' || { show; false; }
	show 2>&1
	[ "$(first 'STOPPING=1')" -gt "$(first 'READY=1')" ]
	has_msg 'STATUS=stopping \(signal:TERM\): running sh'
	[ "$(count 'WATCHDOG=1')" -eq 0 ]   # no WATCHDOG_USEC: no watchdog
	none_left
}

@test "job file: READY=1 only once the job with a readiness check is ready and the others run" {
	listen "@$MARK"
	cat >"$TMP/svc.ini" <<EOF
[cancelrun]
notify = yes

[job:db]
command = sh -c 'while [ ! -e "\$1" ]; do sleep 0.05; done; exec sleep 30' $MARK $TMP/go
ready = command:test -e $TMP/go
ready-interval = 100ms

[job:web]
command = sh -c 'exec sleep 30' $MARK
EOF
	start_bg env NOTIFY_SOCKET="@$MARK" "$CANCELRUN" -f "$TMP/svc.ini"
	CR_PID=$BG_PID
	# Both run, db is not ready: no READY=1 yet, and STATUS= says so.
	wait_for has_msg 'STATUS=starting: running .*' || { show; false; }
	wait_for has_msg 'STATUS=starting: running (db, web|web, db); 0 of 2 jobs done' ||
	    { show; false; }
	sleep 1
	not has_msg 'READY=1' || { show; false; }
	touch "$TMP/go"
	wait_for has_msg 'READY=1' || { show; false; }
	[ "$(first 'READY=1')" -eq "$(first 'STATUS=running (db, web|web, db); 0 of 2 jobs done')" ]
	kill -INT "$CR_PID"
	wait_bg
	[ "$status" -eq 130 ] || { show; false; }
	wait_for has_msg 'STATUS=stopping.*nothing running; 2 of 2 jobs done' ||
	    { show; false; }
	show 2>&1
	[ "$(first 'STOPPING=1')" -gt "$(first 'READY=1')" ]
	[ "$(count 'READY=1')" -eq 1 ]
	none_left
}

@test "job file: a cancellation before the jobs are ready sends STOPPING=1 and never READY=1" {
	listen "@$MARK"
	cat >"$TMP/svc.ini" <<EOF
[cancelrun]
notify = yes
timeout = 1s

[job:db]
command = sh -c 'exec sleep 30' $MARK
ready = command:test -e $TMP/never
ready-timeout = 30s
EOF
	start_bg env NOTIFY_SOCKET="@$MARK" "$CANCELRUN" -q -f "$TMP/svc.ini"
	CR_PID=$BG_PID
	wait_bg
	[ "$status" -eq 124 ] || { show; false; }
	wait_for has_msg 'STATUS=stopping \(timeout\): nothing running' ||
	    { show; false; }
	show 2>&1
	has_msg 'STOPPING=1'
	not has_msg 'READY=1'
	none_left
}

@test "watchdog: WATCHDOG=1 at half of WATCHDOG_USEC, if WATCHDOG_PID is cancelrun's or unset" {
	listen "@$MARK"
	# 0.4 s: a beat every 0.2 s, about 7 in 1.5 s; at least 3 on a slow
	# machine.
	start_bg env NOTIFY_SOCKET="@$MARK" WATCHDOG_USEC=400000 \
	    "$CANCELRUN" --notify -t 1.5s -- sh -c 'exec sleep 30' "$MARK"
	wait_bg
	[ "$status" -eq 124 ] || { show; false; }
	show 2>&1
	[ "$(count 'WATCHDOG=1')" -ge 3 ]
	# None after STOPPING=1.
	[ "$(awk -F'\t' '/STOPPING=1/ { s = 1 } s && /WATCHDOG=1/' \
	    "$TMP/log" | wc -l)" -eq 0 ]
	# WATCHDOG_PID naming cancelrun itself (the shell execs it).
	: >"$TMP/log"
	start_bg env NOTIFY_SOCKET="@$MARK" WATCHDOG_USEC=400000 sh -c \
	    'WATCHDOG_PID=$$ exec "$@"' sh "$CANCELRUN" --notify -t 1s -- \
	    sh -c 'exec sleep 30' "$MARK"
	wait_bg
	[ "$status" -eq 124 ] || { show; false; }
	[ "$(count 'WATCHDOG=1')" -ge 2 ] || { show; false; }
	none_left
}

@test "watchdog: not answered for another process's WATCHDOG_PID" {
	listen "@$MARK"
	start_bg env NOTIFY_SOCKET="@$MARK" WATCHDOG_USEC=200000 \
	    WATCHDOG_PID=1 "$CANCELRUN" --notify -t 1s -- sh -c 'exec sleep 30' "$MARK"
	wait_bg
	[ "$status" -eq 124 ] || { show; false; }
	wait_for has_msg 'STOPPING=1' || { show; false; }
	show 2>&1
	has_msg 'READY=1'
	[ "$(count 'WATCHDOG=1')" -eq 0 ]
	none_left
}

@test "watchdog: no WATCHDOG=1 once a job has failed for good (supervise)" {
	listen "@$MARK"
	cat >"$TMP/svc.ini" <<EOF
[cancelrun]
notify = yes
mode = supervise
timeout = 2s

[job:bad]
command = sh -c 'sleep 0.5; exit 3' $MARK

[job:long]
command = sh -c 'exec sleep 30' $MARK
EOF
	start_bg env NOTIFY_SOCKET="@$MARK" WATCHDOG_USEC=200000 \
	    "$CANCELRUN" -q -f "$TMP/svc.ini"
	wait_bg
	[ "$status" -eq 124 ] || { show; false; }
	wait_for has_msg 'STOPPING=1' || { show; false; }
	show 2>&1
	local failed
	failed=$(first "STATUS=running long; 1 of 2 jobs done; 'bad' failed")
	[ "$failed" -gt 0 ]
	# Beats while both ran (0.5 s at 0.1 s), none after the failure.
	[ "$(head -n "$failed" "$TMP/log" | grep -c 'WATCHDOG=1')" -ge 2 ]
	[ "$(tail -n "+$failed" "$TMP/log" | grep -c 'WATCHDOG=1')" -eq 0 ]
	none_left
}

@test "--notify=pass: the command gets the socket and the watchdog, and speaks itself" {
	listen "@$MARK"
	envdump_script
	cat >"$TMP/daemon" <<'EOF'
import os, socket, sys, time
addr = os.environ["NOTIFY_SOCKET"]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect("\0" + addr[1:] if addr.startswith("@") else addr)
s.send(b"READY=1\nSTATUS=daemon up")
time.sleep(30)
EOF
	start_bg env NOTIFY_SOCKET="@$MARK" WATCHDOG_USEC=400000 sh -c \
	    'WATCHDOG_PID=$$ exec "$@"' sh "$CANCELRUN" --notify=pass -- \
	    sh -c 'sh "$1" "$2" 0; exec python3 "$3" "$4"' sh \
	    "$TMP/envdump" "$TMP/env" "$TMP/daemon" "$MARK"
	CR_PID=$BG_PID
	wait_for has_msg 'READY=1' || { show; false; }
	wait_file "$TMP/env"
	cat "$TMP/env"
	# The socket and the interval pass; WATCHDOG_PID named cancelrun.
	[ "$(cat "$TMP/env")" = "$(printf '%s\n' "NOTIFY_SOCKET=@$MARK" \
	    WATCHDOG_USEC=400000 'WATCHDOG_PID unset')" ]
	kill -TERM "$CR_PID"
	wait_bg
	[ "$status" -eq 143 ]
	show 2>&1
	# One message, the daemon's own, from the daemon's PID.
	[ "$(wc -l <"$TMP/log")" -eq 1 ]
	[ "$(msgs)" = "READY=1|STATUS=daemon up" ]
	[ "$(cut -f1 "$TMP/log")" != "$CR_PID" ]
	none_left
}

@test "notify = pass in a job file; no option at all leaves the environment alone" {
	listen "@$MARK"
	envdump_script
	cat >"$TMP/pass.ini" <<EOF
[cancelrun]
notify = pass

[job:a]
command = sh $TMP/envdump $TMP/env 0
EOF
	run env NOTIFY_SOCKET="@$MARK" WATCHDOG_USEC=5 WATCHDOG_PID=1 \
	    "$CANCELRUN" -q -f "$TMP/pass.ini"
	[ "$status" -eq 0 ]
	# WATCHDOG_PID names another process: it stays.
	[ "$(cat "$TMP/env")" = "$(printf '%s\n' "NOTIFY_SOCKET=@$MARK" \
	    WATCHDOG_USEC=5 WATCHDOG_PID=1)" ]
	rm "$TMP/env"
	run env NOTIFY_SOCKET="@$MARK" WATCHDOG_USEC=5 WATCHDOG_PID=1 \
	    "$CANCELRUN" -- sh "$TMP/envdump" "$TMP/env" 0
	[ "$status" -eq 0 ]
	[ "$(cat "$TMP/env")" = "$(printf '%s\n' "NOTIFY_SOCKET=@$MARK" \
	    WATCHDOG_USEC=5 WATCHDOG_PID=1)" ]
	# --notify=no on the command line wins over the file's pass.
	rm "$TMP/env"
	run env NOTIFY_SOCKET="@$MARK" "$CANCELRUN" -q --notify=no \
	    -f "$TMP/pass.ini"
	[ "$status" -eq 0 ]
	grep -qx "NOTIFY_SOCKET=@$MARK" "$TMP/env"
	# Nobody sent anything in all of this.
	sleep 0.3
	[ ! -s "$TMP/log" ] || { show; false; }
}

@test "notify: bad values are refused with exit 125, nothing started" {
	cat >"$TMP/bad.ini" <<EOF
[cancelrun]
timeout = 5s
notify = maybe

[job:a]
command = touch $TMP/ran
EOF
	run --separate-stderr "$CANCELRUN" -f "$TMP/bad.ini"
	[ "$status" -eq 125 ]
	[ "$stderr" = "$TMP/bad.ini:3: invalid notify 'maybe': expected yes, pass or no" ]
	[ ! -e "$TMP/ran" ]
	cat >"$TMP/bad.ini" <<EOF
[job:a]
command = touch $TMP/ran
notify = yes
EOF
	run --separate-stderr "$CANCELRUN" -f "$TMP/bad.ini"
	[ "$status" -eq 125 ]
	echo "$stderr"
	[[ "$stderr" == "$TMP/bad.ini:3: "*notify* ]]
	[ ! -e "$TMP/ran" ]
	run --separate-stderr "$CANCELRUN" --notify=maybe -- touch "$TMP/ran"
	[ "$status" -eq 125 ]
	[ "$stderr" = "cancelrun: invalid mode 'maybe' for --notify (yes, pass or no)" ]
	[ ! -e "$TMP/ran" ]
}

@test "notify: a malformed NOTIFY_SOCKET is one warning; nobody listening changes nothing" {
	run --separate-stderr env NOTIFY_SOCKET=relative/sock \
	    "$CANCELRUN" --notify -- sh -c 'echo "${NOTIFY_SOCKET-unset}"; exit 3'
	[ "$status" -eq 3 ]
	[ "$output" = unset ]
	[ "$stderr" = "cancelrun: warning: ignoring NOTIFY_SOCKET='relative/sock': expected an absolute path or @name shorter than 108 bytes" ]
	# No listener at that address: the run is the same, and quiet.
	run --separate-stderr env NOTIFY_SOCKET="@$MARK-nobody" \
	    WATCHDOG_USEC=100000 "$CANCELRUN" --notify -t 0.5s -- sh -c 'exec sleep 30' "$MARK"
	[ "$status" -eq 124 ]
	[[ "$stderr" == *"timed out after 500ms"* ]]
	[[ "$stderr" != *notify* ]]
	run env NOTIFY_SOCKET="$TMP/none.sock" "$CANCELRUN" --notify -- true
	[ "$status" -eq 0 ]
	none_left
}

@test "notify: a manager that reads nothing never holds the loop up" {
	# Bound, never read: the socket's queue (max_dgram_qlen, 10 by
	# default) fills with beats every 2 ms, and sends fail with EAGAIN.
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
open(sys.argv[2], "w").write("bound\n")
time.sleep(60)' "$MARK" "$TMP/listening" &
	LISTEN_PID=$!
	BG_PIDS+=("$LISTEN_PID")
	wait_file "$TMP/listening"
	local t0=$SECONDS
	# A loop that blocked would never end: KILLed (137) after 20 s.
	run --separate-stderr timeout -s KILL 20 env NOTIFY_SOCKET="@$MARK" \
	    WATCHDOG_USEC=4000 \
	    "$CANCELRUN" --notify -t 1s -- sh -c 'exec sleep 30' "$MARK"
	[ "$status" -eq 124 ]
	[ $((SECONDS - t0)) -lt 5 ]
	none_left
}
