#!/usr/bin/env bats
#
# output.bats - issue 9, items 1-3: prefixed output never blocks the loop,
# a reader that went away ends the output (the jobs get EPIPE/SIGPIPE), and
# write errors are never silent.
#
# A stuck reader is a process that holds a FIFO open for reading and never
# reads (sleep); cancelrun writes into the FIFO, and its own exit is
# measured by its PID, not by the end of a pipeline.  The reader carries a
# mark of its own (not containing MARK), so that no_survivors looks at
# cancelrun's jobs only; it is killed by PID.  Bounds are wide: a 1 s
# deadline must end the run within 3 s, whatever the reader does.

load helpers
bats_require_minimum_version 1.5.0

# jobs_yes2 FILE [TIMEOUT]: two jobs running yes, with a root timeout.
jobs_yes2() {
	{
		if [ -n "${2:-}" ]; then
			printf '[cancelrun]\ntimeout = %s\n' "$2"
		fi
		printf '[job:a]\ncommand = yes a\n[job:b]\ncommand = yes b\n'
	} >"$1"
}

# stuck_reader: a process holding $TMP/ff open for reading that reads
# nothing; its PID in READER.
stuck_reader() {
	mkfifo "$TMP/ff"
	env CR_TEST_READER="rd$$" sleep 30 <"$TMP/ff" &
	READER=$!
	BG_PIDS+=("$READER")
}

# start_into_fifo ARGS...: cancelrun ARGS with stdout into $TMP/ff, stderr
# into $TMP/err, in the background (BG_PID).
start_into_fifo() {
	env CR_TEST_MARK="$MARK" "$CANCELRUN" "$@" >"$TMP/ff" 2>"$TMP/err" &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
}

@test "a stuck reader does not delay a 1s deadline: 124 within 3s" {
	jobs_yes2 "$TMP/j.ini" 1s
	stuck_reader
	start_into_fifo -q -f "$TMP/j.ini"
	# Counted from when the jobs run, so that a slow start (a sanitizer
	# build) is not taken for a late deadline; the deadline itself counts
	# from cancelrun's start, earlier.
	wait_for n_marked_at_least 3
	t0=$(now_ms)
	wait_bg
	t1=$(now_ms)
	echo "status $status after $((t1 - t0)) ms; err: $(cat "$TMP/err")"
	[ "$status" -eq 124 ]
	[ $((t1 - t0)) -lt 3000 ]
	# What the reader never took is said, not lost silently.
	grep -q "standard output: .* bytes of the jobs' output not written" \
	    "$TMP/err"
	no_survivors
	alive "$READER" # the reader itself was left alone
}

@test "a stuck reader does not delay INT: 130 within 2s of the signal" {
	jobs_yes2 "$TMP/j.ini"
	stuck_reader
	start_into_fifo -q -f "$TMP/j.ini"
	# Not before the jobs run: an INT that came before cancelrun had
	# blocked it (a slow start under ASan) would find it ignored, as a
	# background job inherits INT, and be lost.
	wait_for n_marked_at_least 3
	sleep 0.5
	kill -INT "$BG_PID"
	t0=$(now_ms)
	wait_bg
	t1=$(now_ms)
	echo "status $status after $((t1 - t0)) ms; err: $(cat "$TMP/err")"
	[ "$status" -eq 130 ]
	[ $((t1 - t0)) -lt 2000 ]
	no_survivors
}

# job_gone_within SECS PIDFILE: the process whose PID is in PIDFILE has
# ended within SECS seconds.
job_gone_within() {
	local i pid
	for i in $(seq 1 $(($1 * 10))); do
		pid=$(cat "$2" 2>/dev/null) && [ -n "$pid" ] && break
		sleep 0.1
	done
	for i in $(seq 1 $(($1 * 10))); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "process $pid still running after $1 s" >&2
	return 1
}

@test "a stuck standard error: -v lines do not delay the deadline" {
	# The command fills the pipe to the stuck reader and blocks there;
	# the -v lines of cancelrun's at the deadline find it full.  The
	# command must still get TERM at 1 s.  cancelrun itself then waits
	# to write its last lines, after the tree is gone, until the reader
	# goes.
	stuck_reader
	env CR_TEST_MARK="$MARK" "$CANCELRUN" -v -t 1s -- sh -c \
	    'echo $$ >"$0"; exec yes stuck >&2' "$TMP/cmd" 2>"$TMP/ff" &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
	job_gone_within 4 "$TMP/cmd"
	kill "$READER"
	wait_bg
	[ "$status" -eq 124 ]
	no_survivors
}

@test "a stuck standard error in a job file: -v lines do not delay INT" {
	printf '[job:a]\ncommand = sh -c "echo $$ >%s; exec yes a >&2"\n' \
	    "$TMP/cmd" >"$TMP/j.ini"
	printf '[job:b]\ncommand = sleep 60\n' >>"$TMP/j.ini"
	stuck_reader
	env CR_TEST_MARK="$MARK" "$CANCELRUN" -v -f "$TMP/j.ini" \
	    2>"$TMP/ff" &
	BG_PID=$!
	BG_PIDS+=("$BG_PID")
	wait_file "$TMP/cmd"
	sleep 1 # the queue and the pipe fill
	kill -INT "$BG_PID"
	job_gone_within 3 "$TMP/cmd"
	kill "$READER"
	wait_bg
	[ "$status" -eq 130 ]
	no_survivors
}

@test "a stuck reader: timers still run while output is held back" {
	# A job that prints nothing must still be stopped by its own
	# deadline while the other job's output fills the queue.  The run's
	# own deadline ends the run: with no cancelled root, what is queued
	# waits for the reader as long as it lives (the reader's, not ours).
	cat >"$TMP/j.ini" <<EOF
[cancelrun]
mode = supervise
timeout = 5s
[job:chatty]
command = yes chatty
cancel-after = 3s
[job:quiet]
command = sleep 30
cancel-after = 1s
EOF
	stuck_reader
	start_into_fifo -q --report "$TMP/r.json" -f "$TMP/j.ini"
	wait_bg
	echo "status $status; err: $(cat "$TMP/err")"
	[ "$status" -eq 124 ]
	python3 - "$TMP/r.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
jobs = {j["name"]: j for j in r["jobs"]}
q = jobs["quiet"]
assert q["state"] == "cancelled", q
assert q["duration_s"] < 2.5, q
EOF
	no_survivors
}

@test "| head -1: the jobs get SIGPIPE, the run ends within 2s with 1" {
	jobs_yes2 "$TMP/j.ini"
	t0=$(now_ms)
	env CR_TEST_MARK="$MARK" "$CANCELRUN" -f "$TMP/j.ini" \
	    --report "$TMP/r.json" 2>"$TMP/err" | head -1 >"$TMP/out"
	st=${PIPESTATUS[0]}
	t1=$(now_ms)
	echo "status $st after $((t1 - t0)) ms; out: $(cat "$TMP/out")"
	cat "$TMP/err"
	[ "$st" -eq 1 ]
	[ $((t1 - t0)) -lt 2000 ]
	grep -Eqx '\[a\] a|\[b\] b' "$TMP/out"
	# The jobs died of PIPE, as they would have without cancelrun; no
	# message about the pipe (a pipeline's writers die silently).
	grep -q '"state": "failed", "cause": null, "exit": null, "signal": "PIPE"' \
	    "$TMP/r.json"
	not grep -q "Broken pipe" "$TMP/err"
	no_survivors
}

@test "the reader went away after the jobs ended: not 0 (141)" {
	# Jobs that end at once leave more lines queued than the pipe holds;
	# the reader ends without reading: the lines are lost, and the status
	# says so, silently, as for any writer whose reader went away.
	cat >"$TMP/j.ini" <<EOF
[job:a]
command = seq 1 50000
[job:b]
command = seq 1 50000
EOF
	run -141 bash -c 'env CR_TEST_MARK="$2" "$0" -q -f "$1" | sleep 1
	    exit "${PIPESTATUS[0]}"' "$CANCELRUN" "$TMP/j.ini" "$MARK"
	echo "$output"
	[ -z "$output" ]
	no_survivors
}

@test "> /dev/full: a message naming standard output, and 125" {
	printf '[job:a]\ncommand = echo hello\n[job:b]\ncommand = echo world\n' \
	    >"$TMP/j.ini"
	# Bounded: the line said at the loss is queued while the run ends,
	# and the end must wait for it (it once waited for ever); 137 then.
	run -125 timeout -s KILL 30 \
	    bash -c 'exec "$0" -q -f "$1" >/dev/full' "$CANCELRUN" "$TMP/j.ini"
	echo "$output"
	# Said once: neither lost at the end nor said twice.
	[ "$(grep -c 'cannot write to standard output: No space left on device' \
	    <<<"$output")" -eq 1 ]
}

@test "> /dev/full: said when it happens, once, while the jobs run on" {
	# A run that goes on for long (a service) must not keep the loss
	# of its output to itself until its end.
	printf '[job:a]\ncommand = sh -c "echo hello; sleep 30"\n[job:b]\ncommand = sleep 30\n' \
	    >"$TMP/j.ini"
	start_bg env CR_TEST_MARK="$MARK" sh -c 'exec "$0" -q -f "$1" >/dev/full' \
	    "$CANCELRUN" "$TMP/j.ini"
	wait_for grep -q 'cannot write to standard output: No space left on device' \
	    "$TMP/err"
	alive "$BG_PID"
	n_marked_at_least 3 # cancelrun and both jobs
	kill -TERM "$BG_PID"
	wait_bg
	cat "$TMP/err"
	[ "$status" -eq 143 ]
	[ "$(grep -c 'cannot write to standard output' "$TMP/err")" -eq 1 ]
	no_survivors
}

@test "> /dev/full keeps a failed run's own non-zero status" {
	# b fails only once a's line is out: had it failed first, fail-fast
	# could stop a before its echo, and nothing would have been lost.
	printf '[job:a]\ncommand = echo hello\n[job:b]\ncommand = sh -c "sleep 1; false"\n' \
	    >"$TMP/j.ini"
	run -1 timeout -s KILL 30 \
	    bash -c 'exec "$0" -q -f "$1" >/dev/full' "$CANCELRUN" "$TMP/j.ini"
	echo "$output"
	# The loss is said: the write failed, or, when the failed sibling
	# cancelled the run before the writer got to the line, the line was
	# given up at the end.
	[[ "$output" == *"cannot write to standard output: No space left"* ||
	    "$output" == *"standard output: "*" bytes of the jobs' output not written"* ]]
}

@test "--report /dev/full: a message and 125" {
	printf '[job:a]\ncommand = true\n[job:b]\ncommand = true\n' >"$TMP/j.ini"
	run -125 "$CANCELRUN" -q -f "$TMP/j.ini" --report /dev/full
	echo "$output"
	[[ "$output" == *"cannot write report '/dev/full': No space left on device"* ]]
}

@test "--plan, --check, --help > /dev/full: a message and 125" {
	printf '[job:a]\ncommand = true\n' >"$TMP/j.ini"
	for opt in --plan --check; do
		run -125 bash -c '"$0" "$1" "$2" >/dev/full' "$CANCELRUN" \
		    "$opt" "$TMP/j.ini"
		[[ "$output" == *"cannot write to standard output: No space"* ]]
	done
	run -125 bash -c '"$0" --help >/dev/full' "$CANCELRUN"
	[[ "$output" == *"cannot write to standard output: No space"* ]]
	# Nothing written, nothing lost: a closed stdout is no error.
	run -0 bash -c '"$0" -q --check "$1" >&-' "$CANCELRUN" "$TMP/j.ini"
}

@test "few descriptors: jobs wait for them, every line stays labelled" {
	{
		for i in $(seq 1 12); do
			printf '[job:j%d]\n' "$i"
			printf 'command = sh -c "echo line-%d; sleep 0.2"\n' "$i"
		done
	} >"$TMP/j.ini"
	run bash -c 'ulimit -n 16 && exec env CR_TEST_MARK="$1" "$0" -q \
	    -f "$2"' "$CANCELRUN" "$MARK" "$TMP/j.ini"
	echo "$output"
	[ "$status" -eq 0 ]
	for i in $(seq 1 12); do
		grep -qx "\[j$i\] line-$i" <<<"$output"
	done
	# Every line is prefixed.
	not grep -v '^\[j[0-9]*\] line-[0-9]*$' <<<"$output"
	no_survivors
}

@test "too few descriptors for even one job: a clear error, no bare line" {
	printf '[job:a]\ncommand = echo bare-a\n[job:b]\ncommand = echo bare-b\n' \
	    >"$TMP/j.ini"
	# LeakSanitizer's exit-time check cannot work with 7 descriptors
	# (it spins): off here, in a sanitizer build; no effect otherwise.
	run bash -c 'ulimit -n 7 && ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" exec "$0" -q -f "$1"' \
	    "$CANCELRUN" "$TMP/j.ini"
	echo "status $status: $output"
	[ "$status" -eq 125 ]
	not grep -q 'bare-' <<<"$output"
	grep -Eq '^cancelrun: .*Too many open files$' <<<"$output"
}

@test "backpressure: lines stay whole, unmixed and complete" {
	cat >"$TMP/j.ini" <<EOF
[job:a]
command = seq -f a-%.0f-abcdefghijklmnopqrstuvwxyz 1 60000
[job:b]
command = seq -f b-%.0f-abcdefghijklmnopqrstuvwxyz 1 60000
EOF
	# A slow reader: small reads with pauses, after a first stall.
	env CR_TEST_MARK="$MARK" "$CANCELRUN" -q -f "$TMP/j.ini" 2>"$TMP/err" |
	    python3 -c '
import sys, time
time.sleep(1)
out = open(sys.argv[1], "wb")
while True:
    b = sys.stdin.buffer.read1(4096)
    if not b:
        break
    out.write(b)
    time.sleep(0.0005)
' "$TMP/out"
	st=${PIPESTATUS[0]}
	cat "$TMP/err"
	[ "$st" -eq 0 ]
	python3 - "$TMP/out" <<'EOF'
import re, sys
want = {"a": 1, "b": 1}
for n, line in enumerate(open(sys.argv[1], "rb"), 1):
    m = re.fullmatch(rb"\[(a|b)\] (a|b)-(\d+)-abcdefghijklmnopqrstuvwxyz\n",
                     line)
    assert m and m.group(1) == m.group(2), (n, line)
    job = m.group(1).decode()
    assert int(m.group(3)) == want[job], (n, line, want)
    want[job] += 1
assert want == {"a": 60001, "b": 60001}, want
EOF
	no_survivors
}
