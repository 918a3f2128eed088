#!/usr/bin/env bats
# hangs.bats - diagnosing a job that hangs: the idle timeout (--idle-timeout,
# idle-timeout =), the command run at a timeout before the stop sequence
# (--on-timeout, on-timeout =), and the list of what was still running at
# the deadline.
#
# Times are asserted with wide margins only (a 1 s idle timeout must end
# the run within a few seconds, not exactly at 1 s).

load helpers

# report_cause NAME: the job's state and cause in $TMP/r.json.
report_cause() {
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
j = [x for x in r["jobs"] if x["name"] == sys.argv[2]][0]
print(j["state"], j["cause"] or "-")' "$TMP/r.json" "$1"
}

# --- the idle timeout --------------------------------------------------------

@test "idle: a silent command is stopped with 124; the message says why" {
	cr --idle-timeout 1s -- sh -c 'echo start; exec sleep 60' "$MARK"
	[ "$status" -eq 124 ]
	[ "$CR_MS" -lt 8000 ]
	grep -qx start "$TMP/out"
	grep -q "no output for 1s" "$TMP/err"
	assert_none_left
}

@test "idle: the stop signal comes within the idle timeout + 2 s of the output" {
	# The command notes when it printed and when TERM came, by its own
	# clock: the time cancelrun takes to start does not count.
	cr --idle-timeout 1s -- sh -c '
	    trap "date +%s%N > \"\$1/t1\"; exit 0" TERM
	    echo start; date +%s%N > "$1/t0"
	    sleep 60 & wait' "$MARK" "$TMP"
	[ "$status" -eq 124 ]
	[ -s "$TMP/t0" ] && [ -s "$TMP/t1" ]
	ms=$((($(cat "$TMP/t1") - $(cat "$TMP/t0")) / 1000000))
	echo "TERM came $ms ms after the last output"
	[ "$ms" -ge 900 ]
	[ "$ms" -le 3000 ]
	assert_none_left
}

@test "idle: a command that prints every 200 ms runs to its end" {
	cr --idle-timeout 1s -- sh -c \
	    'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
	        echo "tick $i"; sleep 0.2; done' "$MARK"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^tick ' "$TMP/out")" -eq 15 ]
	[ ! -s "$TMP/err" ]
}

@test "idle: output on stderr counts too, and reaches stderr" {
	cr --idle-timeout 1s -- sh -c \
	    'for i in 1 2 3 4 5 6 7 8 9 10; do
	        echo "e$i" >&2; sleep 0.2; done' "$MARK"
	[ "$status" -eq 0 ]
	[ "$(grep -c '^e' "$TMP/err")" -eq 10 ]
	[ ! -s "$TMP/out" ]
}

@test "idle: bytes pass through unchanged, a last line without newline too" {
	cr --idle-timeout 5s -- sh -c \
	    'printf "a\tb\r\n"; printf "\001\377"; printf "prompt> "' "$MARK"
	[ "$status" -eq 0 ]
	printf 'a\tb\r\n\001\377prompt> ' > "$TMP/want"
	cmp "$TMP/want" "$TMP/out"
}

@test "idle: without a terminal the command's output is a pipe" {
	cr --idle-timeout 5s -- sh -c \
	    'if [ -t 1 ]; then echo tty; else echo notty; fi' "$MARK"
	[ "$status" -eq 0 ]
	[ "$(cat "$TMP/out")" = notty ]
}

@test "idle: on a terminal the command still writes to a terminal" {
	# script(1) gives cancelrun a pseudo-terminal as stdout and stderr.
	CR_T0=$(now_ms)
	start_bg script -qec "$CANCELRUN --idle-timeout 5s -- sh -c '
	    [ -t 1 ] && echo out-tty; [ -t 2 ] && echo err-tty >&2;
	    echo done' $MARK" /dev/null
	wait_bg
	cat "$TMP/out"
	[ "$status" -eq 0 ]
	grep -q out-tty "$TMP/out"
	grep -q err-tty "$TMP/out"
	grep -q done "$TMP/out"
}

@test "idle: an interactive prompt on a terminal works through the relay" {
	export CR="$CANCELRUN" T="$TMP"
	printf 'printf "name? "\nread -r x\necho "got:$x"\n' > "$TMP/ask.sh"
	python3 "$TOP_SRCDIR/tests/cli/ptydrive.py" --mark "$MARK" \
	    --log "$TMP/tty" \
	    send '$CR --idle-timeout 30s -- sh $T/ask.sh\r' \
	    expect 'name\? ' send 'bob\r' expect 'got:bob' \
	    send 'echo "ST""ATUS=$?"\r' expect 'STATUS=0' ||
	    { cat "$TMP/tty"; false; }
	assert_none_left
}

@test "idle: in a job file only the silent job is cancelled: idle-timeout:NAME" {
	cat > "$TMP/j.ini" <<-EOF
		[cancelrun]
		mode = supervise

		[job:quiet]
		command = sh -c 'echo hello; exec sleep 60' $MARK
		idle-timeout = 1s

		[job:chatty]
		command = sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo \$i; sleep 0.2; done' $MARK
		idle-timeout = 1s
	EOF
	cr -f "$TMP/j.ini" --report "$TMP/r.json"
	[ "$status" -eq 124 ]
	[ "$(report_cause quiet)" = "cancelled idle-timeout:quiet" ]
	[ "$(report_cause chatty)" = "succeeded -" ]
	grep -qx '\[quiet\] hello' "$TMP/out"
	[ "$(grep -c '^\[chatty\] ' "$TMP/out")" -eq 12 ]
	assert_none_left
}

@test "idle: --idle-timeout is the default for jobs without their own" {
	cat > "$TMP/j.ini" <<-EOF
		[job:a]
		command = sh -c 'exec sleep 60' $MARK

		[job:b]
		command = sh -c 'exec sleep 60' $MARK
		idle-timeout = 0
	EOF
	# b has none (0): it is stopped by the deadline, a by the idle
	# timeout, which comes first.
	cr --idle-timeout 1s -t 20s -f "$TMP/j.ini" --report "$TMP/r.json"
	[ "$status" -eq 124 ]
	[ "$(report_cause a)" = "cancelled idle-timeout:a" ]
	[ "$(report_cause b)" = "cancelled sibling-failed:a" ]
	[ "$CR_MS" -lt 15000 ]
	assert_none_left
}

# --- what runs at the deadline ----------------------------------------------

@test "at the deadline the tree still running is listed, setsid child too" {
	cat > "$TMP/t.sh" <<-'EOF'
		setsid sleep 60 &
		echo $! > "$1/gc"
		exec sleep 61
	EOF
	cr -t 1s -- sh "$TMP/t.sh" "$TMP" "$MARK"
	[ "$status" -eq 124 ]
	gc=$(cat "$TMP/gc")
	grep -Eq "^cancelrun: still running: $gc [A-Z] [0-9.]+s sleep 60\$" \
	    "$TMP/err"
	grep -Eq "^cancelrun: still running: [0-9]+ [A-Z] [0-9.]+s sleep 61\$" \
	    "$TMP/err"
	assert_none_left
}

@test "at the deadline: at most 20 processes are listed, then a count" {
	# 31 processes, if all have started by the deadline: 20 are listed
	# and the others counted.
	cr -t 2s -- sh -c 'for i in $(seq 30); do sleep 60 & done; wait' \
	    "$MARK"
	[ "$status" -eq 124 ]
	[ "$(grep -c '^cancelrun: still running: [0-9]* [A-Z]' "$TMP/err")" \
	    -eq 20 ]
	grep -Eqx 'cancelrun: still running: [0-9]+ more process(es)?' \
	    "$TMP/err"
	assert_none_left
}

@test "at the deadline: -q lists nothing; a job file names the job" {
	cr -q -t 1s -- sh -c 'exec sleep 60' "$MARK"
	[ "$status" -eq 124 ]
	[ ! -s "$TMP/err" ]
	printf '[job:slow]\ncommand = sh -c "exec sleep 60" %s\ncancel-after = 1s\n' \
	    "$MARK" > "$TMP/j.ini"
	cr -f "$TMP/j.ini"
	[ "$status" -eq 124 ]
	grep -Eq "^cancelrun: job 'slow': still running: [0-9]+ S " "$TMP/err"
	assert_none_left
}

@test "on-timeout: the hook sees the live tree before the first stop signal" {
	# The job logs TERM when it gets it; the hook logs whether each PID
	# it was given was alive, before anything was sent.
	cat > "$TMP/job.sh" <<-'EOF'
		trap 'echo term >> "$1/log"; exit 3' TERM
		setsid sleep 60 &
		echo $! > "$1/gc"
		echo $$ > "$1/cmd"
		sleep 61 &
		wait $!
	EOF
	cat > "$TMP/hook.sh" <<-'EOF'
		for p in $CANCELRUN_PIDS; do
			if kill -0 "$p"; then echo "alive $p"; else echo "gone $p"; fi
		done >> "$1/log"
		echo "pid $CANCELRUN_PID job $CANCELRUN_JOB cause $CANCELRUN_CAUSE" \
		    >> "$1/log"
		echo "hook says hello"
	EOF
	cr -t 1s --on-timeout "sh $TMP/hook.sh $TMP $MARK" -- \
	    sh "$TMP/job.sh" "$TMP" "$MARK"
	cat "$TMP/log"
	[ "$status" -eq 124 ]
	cmd=$(cat "$TMP/cmd") gc=$(cat "$TMP/gc")
	grep -qx "alive $cmd" "$TMP/log"
	grep -qx "alive $gc" "$TMP/log"
	not grep -q '^gone' "$TMP/log"
	grep -qx "pid $cmd job sh cause timeout" "$TMP/log"
	# The hook ran to its end before the job got TERM.
	[ "$(tail -n 1 "$TMP/log")" = term ]
	grep -qx "hook says hello" "$TMP/out"
	# No list when there is a hook.
	not grep -q 'still running' "$TMP/err"
	assert_none_left
}

@test "on-timeout: a hook that hangs is killed at its limit, then the stop" {
	cat > "$TMP/hook.sh" <<-'EOF'
		echo $$ > "$1/hook"
		exec sleep 60
	EOF
	cr -t 1s --on-timeout "sh $TMP/hook.sh $TMP $MARK" \
	    --on-timeout-limit 1s -v -- sh -c 'exec sleep 60' "$MARK"
	[ "$status" -eq 124 ]
	[ "$CR_MS" -lt 10000 ]
	not alive "$(cat "$TMP/hook")"
	grep -q "on-timeout command still running after 1s" "$TMP/err"
	assert_none_left
}

@test "on-timeout: a signal cuts the hook short and stops the job" {
	cat > "$TMP/hook.sh" <<-'EOF'
		echo $$ > "$1/hook"
		exec sleep 60
	EOF
	printf '[job:j]\ncommand = sh -c "exec sleep 60" %s\ncancel-after = 1s\non-timeout = sh %s %s %s\n' \
	    "$MARK" "$TMP/hook.sh" "$TMP" "$MARK" > "$TMP/j.ini"
	start_bg "$CANCELRUN" -f "$TMP/j.ini"
	CR_PID=$BG_PID
	wait_file "$TMP/hook"
	CR_T0=$(now_ms)
	kill -TERM "$CR_PID"
	wait_bg
	CR_MS=$(($(now_ms) - CR_T0))
	[ "$status" -eq 143 ]
	[ "$CR_MS" -lt 8000 ]
	not alive "$(cat "$TMP/hook")"
	assert_none_left
}

@test "on-timeout: in a job file the hook's output is prefixed as the job's" {
	cat > "$TMP/j.ini" <<-EOF
		[cancelrun]
		on-timeout = sh -c 'echo "dump of \$CANCELRUN_JOB: \$CANCELRUN_CAUSE"' $MARK

		[job:stuck]
		command = sh -c 'exec sleep 60' $MARK
		idle-timeout = 1s

		[job:fine]
		command = true
	EOF
	cr -f "$TMP/j.ini"
	[ "$status" -eq 124 ]
	grep -qx '\[stuck\] dump of stuck: idle-timeout:stuck' "$TMP/out"
	assert_none_left
}

@test "on-timeout: \$CANCELRUN_* in its words are replaced, nothing else" {
	cr -t 1s --on-timeout \
	    'echo pid=$CANCELRUN_PID job=${CANCELRUN_JOB} $HOME $CANCELRUN_PIDSX' \
	    -- sh -c 'echo $$ > "$1/cmd"; exec sleep 60' "$MARK" "$TMP"
	[ "$status" -eq 124 ]
	cmd=$(cat "$TMP/cmd")
	grep -qx "pid=$cmd job=sh \$HOME ${cmd}X" "$TMP/out"
	assert_none_left
}

@test "on-timeout: not run when the job is cancelled by a plain signal" {
	start_bg "$CANCELRUN" -t 60s --on-timeout "touch $TMP/ran" -- \
	    sh -c 'echo $$ > "$1/cmd"; exec sleep 60' "$MARK" "$TMP"
	CR_PID=$BG_PID
	wait_file "$TMP/cmd"
	kill -INT "$CR_PID"
	wait_bg
	[ "$status" -eq 130 ]
	[ ! -e "$TMP/ran" ]
	assert_none_left
}

# --- bad input ---------------------------------------------------------------

@test "bad input: idle and hook options and keys give 125, nothing runs" {
	local bad
	for bad in "--idle-timeout abc" "--idle-timeout -1" \
	    "--on-timeout-limit 5s" "--on-timeout=" \
	    "--on-timeout-limit 0 --on-timeout true"; do
		# shellcheck disable=SC2086
		run "$CANCELRUN" $bad -- touch "$TMP/ran"
		echo "$bad -> $status: $output"
		[ "$status" -eq 125 ]
		[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	done
	[ ! -e "$TMP/ran" ]
	printf '[job:a]\ncommand = touch %s/ran\nidle-timeout = soon\n' \
	    "$TMP" > "$TMP/j.ini"
	run "$CANCELRUN" -f "$TMP/j.ini"
	[ "$status" -eq 125 ]
	[[ "$output" == *j.ini:3:*"invalid duration 'soon' for 'idle-timeout'"* ]]
	printf '[job:a]\ncommand = touch %s/ran\non-timeout = gdb "unclosed\n' \
	    "$TMP" > "$TMP/j.ini"
	run "$CANCELRUN" -f "$TMP/j.ini"
	[ "$status" -eq 125 ]
	[[ "$output" == *j.ini:3:*on-timeout* ]]
	printf '[job:a]\ncommand = touch %s/ran\non-timeout-limit = 0\n' \
	    "$TMP" > "$TMP/j.ini"
	run "$CANCELRUN" -f "$TMP/j.ini"
	[ "$status" -eq 125 ]
	[ ! -e "$TMP/ran" ]
}

@test "--plan shows a job's idle timeout and on-timeout command" {
	printf '[cancelrun]\nidle-timeout = 10m\n\n[job:a]\ncommand = true\non-timeout = kill -QUIT $CANCELRUN_PID\non-timeout-limit = 5s\n' \
	    > "$TMP/j.ini"
	run "$CANCELRUN" --plan "$TMP/j.ini"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"job:a"*"idle-timeout=10m"*"on-timeout-limit=5s  on-timeout: kill -QUIT '\$CANCELRUN_PID' ;"* ]]
}
