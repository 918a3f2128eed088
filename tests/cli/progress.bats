#!/usr/bin/env bats
#
# progress.bats - issue 12, item 4: a status line while a job file runs on
# a terminal, prefixes padded and coloured there, and none of it in a pipe
# or in single-command mode (which never wakes up for it).
#
# Terminals are real pseudo-terminals (ptyrun.py: a new session with the
# pty as its controlling terminal); what the terminal received is checked
# byte for byte, escape sequences and carriage returns included.  Every
# command carries CR_TEST_MARK=$MARK in its environment, so that teardown
# finds what is left, by PID.  No duration is asserted, but for bounds
# several times wider than what is expected.

load helpers
bats_require_minimum_version 1.5.0

: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"

DOT=$'\xc2\xb7'

# on_tty [PTYRUN OPTION]... -- CMD...: runs CMD on a fresh terminal of 100
# columns (TERM=xterm, a UTF-8 locale, NO_COLOR unset unless the test
# sets it through env); what the terminal got is in $TMP/tty, the status
# in $status.
on_tty() {
	run env -u NO_COLOR TERM=xterm LC_ALL=C.UTF-8 CR_TEST_MARK="$MARK" \
	    python3 "$TOP_SRCDIR/tests/cli/ptyrun.py" --log "$TMP/tty" "$@"
}

# check FILE PYTHON: runs the Python code with D the bytes of FILE; it
# fails the test by raising (an assert says what it saw).
check() {
	python3 -c '
import re, sys
D = open(sys.argv[1], "rb").read()
DOT = "\u00b7".encode()
exec(sys.argv[2])
' "$1" "$2"
}

# four_jobs [PAUSE]: a job file of four jobs: two that end at once (one
# fails), two that print six lines, to stdout and to stderr, PAUSE (0.5)
# seconds apart.
four_jobs() {
	sed "s/@PAUSE@/${1:-0.5}/" >"$TMP/four.ini" <<-'EOF'
		[cancelrun]
		mode = supervise

		[job:ok]
		command = sh -c 'echo ok here'

		[job:bad]
		command = sh -c 'echo oops >&2; exit 3'

		[job:slow_one]
		command = sh -c 'for i in 1 2 3 4 5 6; do echo one $i; sleep @PAUSE@; done'

		[job:slow_two]
		command = sh -c 'for i in 1 2 3 4 5 6; do echo two $i >&2; sleep @PAUSE@; done'
	EOF
}

@test "progress: a status line on a terminal, never mixed, gone before the summary" {
	four_jobs
	on_tty -- "$CANCELRUN" -f "$TMP/four.ini"
	cat -v "$TMP/tty"
	[ "$status" -eq 1 ]
	# The counts while the slow jobs run, and the clock going on.
	grep -aq "2/4 done $DOT 2 running $DOT 1 failed $DOT 0:0[0-9]" "$TMP/tty"
	grep -aq "2/4 done $DOT 2 running $DOT 1 failed $DOT 0:0[12]" "$TMP/tty"
	grep -aq '^4 jobs: 3 succeeded, 1 failed in' "$TMP/tty"
	check "$TMP/tty" '
head = D.index(b"JOB ")
before, after = D[:head], D[head:]
# Erased for good just before the summary, and nothing of it after.
last = before.rindex(b" done " + DOT)
assert before.endswith(b"\r\x1b[K"), before[-80:]
assert b"\r\x1b[K" not in before[last:-4], before[last:]
assert b"\x1b" not in after and b" done " + DOT not in after, after
assert re.sub(rb"\r\n", b"", after).count(b"\r") == 0, after
# Every job line starts on a clean line (after an erase or a newline)
# and holds no status text.
lines = 0
for m in re.finditer(rb"\x1b\[\d+m\[(ok|bad|slow_one|slow_two)\]", D):
    lines += 1
    pre = D[max(0, m.start() - 4):m.start()]
    assert pre == b"" or pre.endswith(b"\r\x1b[K") or pre.endswith(b"\n"), D[max(0, m.start()-60):m.end()]
    end = D.index(b"\r\n", m.end())
    assert b"\x1b[K" not in D[m.end():end] and DOT not in D[m.end():end], D[m.start():end]
assert lines == 14, lines
'
	no_survivors
}

@test "progress: cancelrun's own messages are never mixed with the status line" {
	four_jobs 0.2
	on_tty -- "$CANCELRUN" -v -f "$TMP/four.ini"
	[ "$status" -eq 1 ]
	cat -v "$TMP/tty"
	grep -aq "done $DOT" "$TMP/tty"
	check "$TMP/tty" '
n = 0
for m in re.finditer(rb"cancelrun: ", D):
    n += 1
    pre = D[max(0, m.start() - 4):m.start()]
    assert pre == b"" or pre.endswith(b"\r\x1b[K") or pre.endswith(b"\n"), D[max(0, m.start()-60):m.end()]
    end = D.index(b"\r\n", m.end())
    assert b"\x1b[K" not in D[m.end():end] and DOT not in D[m.end():end], D[m.start():end]
assert n >= 8, n
'
	no_survivors
}

@test "progress: at most 4 updates a second, and only for a change or the clock" {
	{
		echo '[cancelrun]'
		for i in $(seq 1 30); do
			printf '[job:j%02d]\ncommand = sleep 0.%02d\n' "$i" \
			    $((i * 3))
		done
	} >"$TMP/many.ini"
	t0=$(now_ms)
	on_tty -- "$CANCELRUN" -f "$TMP/many.ini"
	t1=$(now_ms)
	[ "$status" -eq 0 ]
	cat -v "$TMP/tty"
	secs=$(((t1 - t0 + 999) / 1000))
	draws=$(grep -ao $'\r[0-9]*/30 done' "$TMP/tty" | wc -l)
	echo "$draws draws in ${secs}s"
	[ "$draws" -ge 2 ]
	# 4 a second for the changes, 1 for the clock, and some slack.
	[ "$draws" -le $((5 * secs + 3)) ]
	# Never the same line twice in a row: nothing changed, no draw.
	check "$TMP/tty" '
draws = re.findall(rb"\r(\d+/30 done[^\r\x1b]*)\x1b\[K", D)
assert all(a != b for a, b in zip(draws, draws[1:])), draws
'
	grep -aq '^30 jobs: 30 succeeded in' "$TMP/tty"
}

@test "progress: stdout a pipe, stderr a terminal: only stderr has the status line" {
	four_jobs
	on_tty --stdout "$TMP/out" -- "$CANCELRUN" -f "$TMP/four.ini"
	[ "$status" -eq 1 ]
	cat -v "$TMP/out"
	cat -v "$TMP/tty"
	# Standard output: plain lines, no colour, no padding, no status.
	grep -qx '\[ok\] ok here' "$TMP/out"
	grep -qx '\[slow_one\] one 6' "$TMP/out"
	not grep -q $'\x1b' "$TMP/out"
	not grep -q $'\r' "$TMP/out"
	# The terminal: the status line, the stderr lines coloured and padded,
	# no stdout line.
	grep -aq "done $DOT" "$TMP/tty"
	grep -aq $'\x1b\\[[0-9]*m\\[bad\\]\x1b\\[0m      oops' "$TMP/tty"
	not grep -aq 'one [0-9]' "$TMP/tty"
	no_survivors
}

@test "progress: stderr a pipe, stdout a terminal: no status line anywhere" {
	four_jobs
	on_tty -- sh -c '"$1" -f "$2" 2>"$3"' sh "$CANCELRUN" "$TMP/four.ini" \
	    "$TMP/err"
	[ "$status" -eq 1 ]
	cat -v "$TMP/tty"
	cat -v "$TMP/err"
	not grep -q $'\x1b' "$TMP/err"
	not grep -q $'\r' "$TMP/err"
	grep -qx '\[bad\] oops' "$TMP/err"
	grep -q '^4 jobs: 3 succeeded, 1 failed in' "$TMP/err"
	# Standard output is a terminal: its lines are dressed, but no
	# status line is drawn there.
	grep -aq $'\x1b\\[[0-9]*m\\[ok\\]\x1b\\[0m       ok here' "$TMP/tty"
	not grep -aq "done $DOT" "$TMP/tty"
	not grep -aq $'\x1b\\[K' "$TMP/tty"
	no_survivors
}

@test "progress: no terminal at all: plain lines, no escape, no carriage return" {
	four_jobs 0.05
	env CR_TEST_MARK="$MARK" TERM=xterm "$CANCELRUN" -f "$TMP/four.ini" \
	    >"$TMP/out" 2>"$TMP/err" || status=$?
	[ "$status" -eq 1 ]
	for f in out err; do
		not grep -q $'\x1b' "$TMP/$f"
		not grep -q $'\r' "$TMP/$f"
	done
	grep -qx '\[ok\] ok here' "$TMP/out"
	grep -qx '\[slow_two\] two 1' "$TMP/err"
	grep -qx '\[bad\] oops' "$TMP/err"
	no_survivors
}

@test "progress: prefixes padded to the longest name on a terminal" {
	four_jobs 0.05
	on_tty -- "$CANCELRUN" --color=never -f "$TMP/four.ini"
	[ "$status" -eq 1 ]
	cat -v "$TMP/tty"
	check "$TMP/tty" '
seen = set()
for m in re.finditer(rb"(?:^|\n|\x1b\[K)(\[(ok|bad|slow_one|slow_two)\] *)(\S)", D):
    seen.add(m.group(2))
    # "[slow_one] " is the longest: every text starts after as many.
    assert len(m.group(1)) == len(b"[slow_one] "), m.group(0)
assert seen == {b"ok", b"bad", b"slow_one", b"slow_two"}, seen
assert b"\x1b[3" not in D and b"\x1b[9" not in D
'
}

@test "progress: NO_COLOR and --color: never, always, and a bad value" {
	four_jobs 0.05
	# NO_COLOR set: no colour, but the status line and the padding stay.
	on_tty -- env NO_COLOR=1 "$CANCELRUN" -f "$TMP/four.ini"
	[ "$status" -eq 1 ]
	not grep -aq $'\x1b\\[[39][0-9]m' "$TMP/tty"
	grep -aq "done $DOT" "$TMP/tty"
	grep -aq '\[ok\]       ok here' "$TMP/tty"
	# NO_COLOR empty counts as unset.
	on_tty -- env NO_COLOR= "$CANCELRUN" -f "$TMP/four.ini"
	grep -aq $'\x1b\\[36m\\[ok\\]\x1b\\[0m' "$TMP/tty"
	# --color=always wins over NO_COLOR.
	on_tty -- env NO_COLOR=1 "$CANCELRUN" --color=always -f "$TMP/four.ini"
	grep -aq $'\x1b\\[36m\\[ok\\]\x1b\\[0m' "$TMP/tty"
	# --color=never on a terminal.
	on_tty -- "$CANCELRUN" --color=never -f "$TMP/four.ini"
	not grep -aq $'\x1b\\[[39][0-9]m' "$TMP/tty"
	grep -aq "done $DOT" "$TMP/tty"
	# --color=always into files: colour and padding, never a status line.
	env CR_TEST_MARK="$MARK" "$CANCELRUN" --color=always \
	    -f "$TMP/four.ini" >"$TMP/out" 2>"$TMP/err" || true
	grep -q $'^\x1b\\[36m\\[ok\\]\x1b\\[0m       ok here$' "$TMP/out"
	grep -q $'\x1b\\[33m\\[bad\\]\x1b\\[0m      oops' "$TMP/err"
	not grep -q $'\r' "$TMP/err"
	not grep -q "done $DOT" "$TMP/err"
	# A single command's output is its own, on a terminal too.
	on_tty -- "$CANCELRUN" --color=always -- echo hi
	[ "$status" -eq 0 ]
	[ "$(cat "$TMP/tty")" = $'hi\r' ]
	# A bad value: one line, 125, nothing started.
	run -125 "$CANCELRUN" --color=sometimes -- touch "$TMP/ran"
	[ "$output" = "cancelrun: invalid value 'sometimes' for --color (auto, always or never)" ]
	run -125 "$CANCELRUN" --color -- touch "$TMP/ran"
	[ "${#lines[@]}" -eq 1 ]
	[ ! -e "$TMP/ran" ]
	no_survivors
}

@test "progress: no status line under -q, on TERM=dumb, or for one job of raw output" {
	four_jobs
	on_tty -- "$CANCELRUN" -q -f "$TMP/four.ini"
	[ "$status" -eq 1 ]
	not grep -aq "done $DOT" "$TMP/tty"
	on_tty -- env TERM=dumb "$CANCELRUN" -f "$TMP/four.ini"
	[ "$status" -eq 1 ]
	not grep -aq "done $DOT" "$TMP/tty"
	not grep -aq $'\x1b' "$TMP/tty"
	printf '[job:only]\ncommand = sh -c "echo x; sleep 1.5"\n' >"$TMP/one.ini"
	on_tty -- "$CANCELRUN" -f "$TMP/one.ini"
	[ "$status" -eq 0 ]
	not grep -aq "done $DOT" "$TMP/tty"
	no_survivors
}

# ctxt PID: context switches of every thread of PID so far.
ctxt() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
	    awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'
}

# switches_in PID SECS: the context switches of PID's threads in SECS;
# fails if PID is gone by then (the count would mean nothing).
switches_in() {
	local a b
	a=$(ctxt "$1")
	sleep "$2"
	b=$(ctxt "$1")
	alive "$1" || { echo "process $1 is gone" >&2; return 1; }
	echo $((b - a))
}

# bg_pty PIDFILE LOG CMD...: CMD on a terminal in the background, its PID
# in PIDFILE once it runs; ptyrun's own PID goes to BG_PIDS.
bg_pty() {
	local pidfile=$1 log=$2
	shift 2
	env CR_TEST_MARK="$MARK" TERM=xterm python3 \
	    "$TOP_SRCDIR/tests/cli/ptyrun.py" --pidfile "$pidfile" \
	    --log "$log" -- "$@" &
	BG_PIDS+=("$!")
	wait_file "$pidfile"
}

@test "progress: no wake-up in single-command mode on a terminal, nor without one" {
	# CI's ThreadSanitizer stage says so: TSan's runtime wakes a thread
	# of its own several times a second once the program has a thread.
	# The plain build, where make check runs this test, has none.
	if [ "${CR_SANITIZER-}" = thread ]; then
		skip "a ThreadSanitizer build wakes up by itself"
	fi
	# The commands run far longer than the measure, even on a loaded
	# machine; each run is ended by TERM to cancelrun's PID.
	printf '[job:a]\ncommand = sleep 60\n[job:b]\ncommand = sleep 60\n' \
	    >"$TMP/two.ini"
	# On a terminal, a single command: nothing to draw, no timer.
	bg_pty "$TMP/pid1" "$TMP/tty1" "$CANCELRUN" -- sleep 60
	pid1=$(cat "$TMP/pid1")
	# A job file whose standard error is no terminal: the same.
	env CR_TEST_MARK="$MARK" TERM=xterm "$CANCELRUN" -f "$TMP/two.ini" \
	    >"$TMP/out" 2>"$TMP/err" &
	pid2=$!
	BG_PIDS+=("$pid2")
	# The measure sees the 1 Hz clock of a status line: it can fail.
	bg_pty "$TMP/pid3" "$TMP/tty3" "$CANCELRUN" -f "$TMP/two.ini"
	pid3=$(cat "$TMP/pid3")
	sleep 1
	n1=$(switches_in "$pid1" 2)
	n2=$(switches_in "$pid2" 2)
	n3=$(switches_in "$pid3" 2.5)
	echo "single command on a terminal: $n1 context switches in 2 s"
	echo "job file into files: $n2 context switches in 2 s"
	echo "job file on a terminal: $n3 context switches in 2.5 s"
	[ "$n1" -le 3 ]
	[ "$n2" -le 3 ]
	[ "$n3" -ge 2 ]
	kill -TERM "$pid1" "$pid2" "$pid3"
	wait "$pid2" || true
	wait_for not alive "$pid1"
	wait_for not alive "$pid3"
	no_survivors
}

@test "progress: bash completes the words of --color" {
	run bash --norc --noprofile -c '
		. "$1/completions/cancelrun.bash" || exit 1
		COMP_WORDS=("$2" --color=a)
		COMP_CWORD=1
		_cancelrun || exit 1
		printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP_SRCDIR" "$CANCELRUN"
	echo "$output"
	[ "$output" = "--color=auto
--color=always" ]
	grep -q -- "--color=\[.*\]:when:(auto always never)" \
	    "$TOP_SRCDIR/completions/_cancelrun"
}

@test "progress: Ctrl+Z erases the status line before the shell says Stopped" {
	four_jobs 0.4
	python3 "$TOP_SRCDIR/tests/cli/ptydrive.py" --mark "$MARK" \
	    --log "$TMP/tty" \
	    send "TERM=xterm LC_ALL=C.UTF-8 $CANCELRUN -f $TMP/four.ini\\r" \
	    expect "done $DOT" send '\x1a' expect 'Stopped' \
	    send 'fg\r' expect '4 jobs: 3 succeeded, 1 failed' \
	    send 'echo "ST""ATUS=$?"\r' expect 'STATUS=1'
	cat -v "$TMP/tty"
	check "$TMP/tty" '
stopped = D.index(b"Stopped")
before = D[:stopped]
last = before.rindex(b" done " + DOT)
assert b"\r\x1b[K" in before[last:], before[last:]
# Drawn again once continued.
assert b" done " + DOT in D[stopped:D.index(b"4 jobs:")]
'
	no_survivors
}
