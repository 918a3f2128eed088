#!/usr/bin/env bats
# terminal.bats - cancelrun as a shell job on a real terminal.
#
# Every test that needs a terminal runs an interactive bash on a fresh
# pseudo-terminal (ptydrive.py: new session, the pty as its controlling
# terminal, job control on) and types into it.  The shell and everything
# started from it carry CR_TEST_MARK=$MARK in their environment, so the
# teardown finds and kills what is left, by PID.  Expected output is waited
# for (up to 15 s each); no duration is asserted.

load helpers

setup() {
	MARK="crtest-$$-${BATS_TEST_NUMBER}-${RANDOM}${RANDOM}"
	TMP="$(mktemp -d "${BATS_TMPDIR:-/tmp}/crtest.XXXXXX")"
	BG_PIDS=()
	# What the typed command lines use.
	export CR="$CANCELRUN" T="$TMP"
}

# pty STEP...: runs the steps on a terminal (see ptydrive.py); what the
# terminal showed is in $TMP/tty.
pty() {
	python3 "$TOP_SRCDIR/tests/cli/ptydrive.py" --mark "$MARK" \
	    --log "$TMP/tty" "$@"
}

# Marker lines: typed as "ST""ATUS" so that the echo of the typed line does
# not match what the command prints.
STATUS='echo "ST""ATUS=$?"\r'

# state PID: its state letter (R, S, T, ...).
state() {
	stat_field "$1" 1
}

# state_is PID S: PID's state is S now.
state_is() {
	[ "$(state "$1")" = "$2" ]
}

# both_in STATE CMD_PID CR_PID: wait until the command and cancelrun are
# both stopped (T) or both not stopped (anything else).
both_in() {
	local want=$1 c=$2 p=$3 i a b
	for i in $(seq 1 100); do
		a=$(state "$c") b=$(state "$p")
		if [ "$want" = T ]; then
			[ "$a" = T ] && [ "$b" = T ] && return 0
		else
			[ -n "$a" ] && [ -n "$b" ] && [ "$a" != T ] &&
			    [ "$b" != T ] && return 0
		fi
		sleep 0.1
	done
	echo "command $c is '$a', cancelrun $p is '$b' (wanted $want)" >&2
	return 1
}

@test "terminal: a read prompt is answered through the terminal" {
	cat > "$TMP/ask.sh" <<-'EOF'
		printf 'name? '
		read -r x
		echo "got:$x"
	EOF
	pty send '$CR -v -t 60s -- sh $T/ask.sh\r' expect 'name\? ' \
	    send 'hello\r' expect 'got:hello' send "$STATUS" \
	    expect 'STATUS=0'
	# The answer reached the command, not the shell.
	not grep -q 'command not found' "$TMP/tty"
	# Its group had the terminal before exec: its read was not stopped
	# by TTIN first.
	grep -q "gave it the terminal" "$TMP/tty"
	not grep -q 'stopped by TT' "$TMP/tty"
	assert_none_left
}

@test "terminal: in a pipeline, only a command that reads the terminal gets it" {
	cat > "$TMP/devtty.sh" <<-'EOF'
		read -r piped
		printf 'key? '
		read -r x < /dev/tty
		echo "got:$piped:$x"
	EOF
	# Its standard input is a pipe: it gets the terminal when it reads
	# it, without a word about waiting.  Then cat, before cancelrun in
	# the pipeline, keeps reading the terminal: nothing took it away.
	pty send 'echo data | $CR -t 60s -- sh $T/devtty.sh\r' \
	    expect 'key\? ' send 'hello\r' expect 'got:data:hello' \
	    send "$STATUS" expect 'STATUS=0' \
	    send 'cat | $CR -t 60s -- sh -c "read -r x; echo got2:\$x"\r' \
	    sleep 0.5 send 'line\r' expect 'got2:line' send '\x04' \
	    expect 'PROMPT' send "$STATUS" expect 'STATUS=0'
	not grep -q 'waiting for terminal' "$TMP/tty"
	assert_none_left
}

@test "terminal: a REPL survives Ctrl+C, then exits normally" {
	# The README's example, as written.
	# python3 misses a Ctrl+C that comes between its prompt and its
	# select(2) (its own race, without cancelrun too): typed again
	# until it answers.
	pty send '$CR -t 10m -- python3\r' expect '>>> ' \
	    send '\x03' until 'KeyboardInterrupt' expect '>>> ' \
	    send 'print(6 * 7)\r' expect '42' send 'exit()\r' \
	    expect 'PROMPT' send "$STATUS" expect 'STATUS=0'
	# Nothing of cancelrun's: the Ctrl+C did not cancel the run.
	not grep -q 'cancelrun:' "$TMP/tty"
	assert_none_left
}

@test "terminal: Ctrl+Z stops the command and cancelrun; fg resumes both" {
	cat > "$TMP/z.sh" <<-'EOF'
		echo $$ > "$T/cmd"
		echo "REA""DY"
		read -r x
		echo "after:$x"
	EOF
	pty send '$CR -t 60s -- sh $T/z.sh\r' \
	    expect 'READY' send '\x1a' expect 'Stopped' \
	    sh 'c=$(cat $T/cmd); p=$(cut -d" " -f4 /proc/$c/stat); echo $p > $T/cr
		for i in $(seq 100); do
		    grep -q "^$c ([^)]*) T" /proc/$c/stat &&
		    grep -q "^$p ([^)]*) T" /proc/$p/stat && exit 0
		    sleep 0.1
		done; exit 1' \
	    send 'fg\r' sleep 0.3 send 'hello\r' expect 'after:hello' \
	    send "$STATUS" expect 'STATUS=0'
	[ -s "$TMP/cr" ]
	assert_none_left
}

@test "terminal: a deadline that passed while stopped fires on fg" {
	cat > "$TMP/z.sh" <<-'EOF'
		echo "REA""DY"
		read -r x
		echo "after:$x"
	EOF
	pty send '$CR -t 2s -- sh $T/z.sh\r' \
	    expect 'READY' send '\x1a' expect 'Stopped' sleep 3 \
	    send 'fg\r' expect 'timed out after 2s' send "$STATUS" \
	    expect 'STATUS=124'
	not grep -q 'after:' "$TMP/tty"
	assert_none_left
}

@test "terminal: modes set by a command killed at the deadline are restored" {
	cat > "$TMP/raw.sh" <<-'EOF'
		stty raw -echo
		stty -g > "$T/during"
		echo "RA""W"
		sleep 100
	EOF
	pty send 'stty -g > $T/before\r' \
	    send '$CR -t 2s -- sh $T/raw.sh; echo "R""C=$?"; stty -g > $T/after\r' \
	    expect 'RAW' expect 'RC=124' expect 'PROMPT'
	# The command did change them, and they are back as they were.
	[ "$(cat "$TMP/during")" != "$(cat "$TMP/before")" ]
	[ "$(cat "$TMP/after")" = "$(cat "$TMP/before")" ]
	assert_none_left
}

@test "terminal: a second Ctrl+C kills at once" {
	# The command dies of the first Ctrl+C, which reaches it alone; what
	# it left ignores INT and TERM, and the grace period is 5 minutes.
	cat > "$TMP/stub.sh" <<-'EOF'
		(trap '' INT TERM; exec sleep 300) &
		echo "REA""DY"
		wait
	EOF
	# cancelrun dies of the INT, as the command would have: an
	# interactive bash then drops the rest of the line, so $? is asked
	# for on a line of its own.
	pty send '$CR -g 300s -- sh $T/stub.sh\r' \
	    expect 'READY' sleep 0.3 send '\x03' \
	    expect "stopping 'sh' \\(grace 5m\\); press Ctrl\\+C again to kill it now" \
	    send '\x03' expect 'PROMPT' send 'echo "R""C=$?"\r' \
	    expect 'RC=130'
	grep -q 'KILL at once after a second signal' "$TMP/tty"
	not grep -q 'grace period' "$TMP/tty"
	assert_none_left
}

@test "terminal: started in the background, it says the command waits for input; fg gives it the terminal" {
	cat > "$TMP/ask.sh" <<-'EOF'
		read -r x
		echo "after:$x"
	EOF
	# The message comes just before cancelrun stops; bash tells of the
	# stop at its next prompt: Enter until it does.
	pty send '$CR -t 60s -- sh $T/ask.sh &\r' \
	    expect "cancelrun: 'sh' is stopped waiting for terminal input" \
	    send '\r' until 'Stopped' send 'fg\r' sleep 0.3 \
	    send 'hello\r' expect 'after:hello' send "$STATUS" \
	    expect 'STATUS=0'
	[ "$(grep -c 'is stopped waiting' "$TMP/tty")" -eq 1 ]
	assert_none_left
}

@test "terminal: kill -TSTP stops the tree and cancelrun, CONT resumes both" {
	cat > "$TMP/loop.sh" <<-'EOF'
		echo $$ > "$T/cmd"
		while :; do sleep 0.2; done
	EOF
	cat > "$TMP/check.sh" <<-EOF
		. "$TOP_SRCDIR/tests/cli/helpers.bash"
		$(declare -f state both_in)
		both_in "\$1" "\$(cat "$TMP/cmd")" "\$(cat "$TMP/cr")"
	EOF
	pty send '$CR -t 60s -- sh $T/loop.sh & echo $! > $T/cr\r' \
	    sh 'for i in $(seq 100); do [ -s $T/cmd ] && exit 0; sleep 0.1; done; exit 1' \
	    sh 'CANCELRUN=x bash $T/check.sh R' \
	    sh 'kill -TSTP $(cat $T/cr)' sh 'CANCELRUN=x bash $T/check.sh T' \
	    sh 'kill -CONT $(cat $T/cr)' sh 'CANCELRUN=x bash $T/check.sh R' \
	    sh 'kill -TERM $(cat $T/cr)' \
	    send 'wait $(cat $T/cr); echo "R""C=$?"\r' expect 'RC=143'
	assert_none_left
}

@test "terminal: job file: the terminal job reads the terminal, the other reads /dev/null" {
	cat > "$TMP/ask.sh" <<-'EOF'
		printf 'name? '
		read -r x
		echo "got:$x"
	EOF
	cat > "$TMP/jobs.ini" <<-EOF
		[job:ask]
		command = sh $TMP/ask.sh
		terminal = yes

		[job:other]
		command = sh -c 'readlink /proc/self/fd/0 > $TMP/other-stdin'
	EOF
	pty send '$CR -f $T/jobs.ini\r' expect 'name\? ' send 'hello\r' \
	    expect 'got:hello' expect 'PROMPT' send "$STATUS" \
	    expect 'STATUS=0'
	[ "$(cat "$TMP/other-stdin")" = /dev/null ]
	assert_none_left
}

@test "job file: a second 'terminal = yes' is refused" {
	cat > "$TMP/jobs.ini" <<-EOF
		[job:a]
		command = sh -c 'echo $MARK'
		terminal = yes

		[job:b]
		command = sh -c 'echo $MARK'
		terminal = yes
	EOF
	run "$CANCELRUN" -f "$TMP/jobs.ini"
	[ "$status" -eq 125 ]
	[[ "$output" == *"jobs.ini:7: job 'b' cannot have the terminal: job 'a' has it (line 3)"* ]]
	not grep -q "$MARK" <<< "$output"
	run "$CANCELRUN" --check "$TMP/jobs.ini"
	[ "$status" -eq 125 ]
	printf '[job:a]\ncommand = true\nterminal = maybe\n' > "$TMP/bad.ini"
	run "$CANCELRUN" --check "$TMP/bad.ini"
	[ "$status" -eq 125 ]
	[[ "$output" == *"bad.ini:3: invalid terminal 'maybe': expected yes or no"* ]]
}

@test "job file: jobs read /dev/null, the terminal job and a single command inherit stdin" {
	cat > "$TMP/jobs.ini" <<-EOF
		[job:a]
		command = sh -c 'cat > $TMP/a.in'

		[job:b]
		command = sh -c 'cat > $TMP/b.in'
		terminal = yes
	EOF
	run sh -c 'echo fed | "$1" -q -f "$2"' sh "$CANCELRUN" "$TMP/jobs.ini"
	[ "$status" -eq 0 ]
	[ ! -s "$TMP/a.in" ]
	[ "$(cat "$TMP/b.in")" = fed ]
	run sh -c 'echo fed | "$1" -- cat' sh "$CANCELRUN"
	[ "$status" -eq 0 ]
	[ "$output" = fed ]
}

@test "without a terminal, --leftovers=wait says what was stopped" {
	run env CR_TEST_MARK="$MARK" "$CANCELRUN" --leftovers=wait -t 1s \
	    -g 1s -- sh -c '(trap "" TERM; exec sleep 30) & exit 0'
	[ "$status" -eq 124 ]
	[[ "$output" == *"'sh' timed out after 1s while waiting for 1 leftover process (it had exited with status 0); 1 needed KILL after the 1s grace period"* ]]
	assert_none_left
}

# first_child PID: the first child of PID, from /proc (empty if none yet).
first_child() {
	local t x
	for t in /proc/"$1"/task/*/children; do
		{ read -r x _ < "$t"; } 2>/dev/null || true
		[ -n "$x" ] && { echo "$x"; return 0; }
	done
	return 1
}

@test "as PID 1, TSTP and CONT are passed to the job; cancelrun runs on" {
	local cr cmd
	printf 'while :; do sleep 0.2; done\n' > "$TMP/loop.sh"
	start_bg env --default-signal=INT CR_TEST_MARK="$MARK" \
	    unshare --pid --fork --mount-proc "$CANCELRUN" -t 60s -- \
	    sh "$TMP/loop.sh"
	wait_for first_child "$BG_PID" >/dev/null
	cr=$(first_child "$BG_PID")
	wait_for first_child "$cr" >/dev/null
	cmd=$(first_child "$cr")
	CR_PID=$cr
	kill -TSTP "$cr"
	wait_for state_is "$cmd" T
	# PID 1 is not stopped: nobody could continue it.
	sleep 0.3
	[ "$(state "$cr")" != T ]
	kill -CONT "$cr"
	wait_for not state_is "$cmd" T
	kill -TERM "$cr"
	wait_bg
	[ "$status" -eq 143 ]
	assert_none_left
}
