#!/usr/bin/env bats
#
# signals.bats - signals sent to cancelrun in the single-command mode.
#
# INT, TERM, HUP and QUIT cancel: the command gets the stop sequence (TERM
# by default, not the signal cancelrun received), cancelrun exits 128+N,
# and a second one skips the rest of the grace period.  USR1, USR2, WINCH
# and ALRM are forwarded and do not cancel (sigall.bats: every signal).
#
# cancelrun runs in the background (start_bg, output in $TMP/out and
# $TMP/err); a test signals it only once the command has started, which
# childinfo shows by writing a file (--wait-signal) or its report on
# stdout (--trap, --ignore-term: written once the handler is in place).
# Note that bash starts background jobs with INT and QUIT ignored;
# cancelrun must catch them anyway.

load helpers
bats_require_minimum_version 1.5.0

show_bg() {
	echo "status: ${status-}"
	echo "stdout: $(cat "$TMP/out" 2>/dev/null)"
	echo "stderr: $(cat "$TMP/err" 2>/dev/null)"
}

# child_pid FILE: the pid childinfo reported in FILE.
child_pid() {
	awk '$1 == "pid" { print $2 }' "$1"
}

# gone PID: PID is not a live process (a zombie counts as gone).
gone() {
	local state
	state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 0
	[ -z "$state" ] || [ "$state" = Z ]
}

# cancel_by SIG STATUS: SIG sent to cancelrun once the command runs
# makes cancelrun exit STATUS, with the command gone.
cancel_by() {
	local sig="$1" want="$2" pid
	start_bg "$CANCELRUN" env CR_TEST_MARK="$MARK" \
	    "$CHILDINFO" --wait-signal "$TMP/ready"
	wait_file "$TMP/ready"
	pid="$(child_pid "$TMP/ready")"
	[ -n "$pid" ]
	kill -"$sig" "$BG_PID"
	wait_bg
	show_bg
	[ "$status" -eq "$want" ]
	gone "$pid"
	no_survivors
	# The notice names the signal.
	grep -q "$sig" "$TMP/err"
}

@test "INT to cancelrun: 130, the command is gone" {
	cancel_by INT 130
}

@test "TERM to cancelrun: 143, the command is gone" {
	cancel_by TERM 143
}

@test "HUP to cancelrun: 129, the command is gone" {
	cancel_by HUP 129
}

@test "QUIT to cancelrun: 131, the command is gone" {
	cancel_by QUIT 131
}

@test "INT to cancelrun: the command gets TERM, not INT" {
	start_bg "$CANCELRUN" env CR_TEST_MARK="$MARK" "$CHILDINFO" \
	    --trap TERM "$TMP/got"
	wait_file "$TMP/out"
	kill -INT "$BG_PID"
	wait_bg
	show_bg
	cat "$TMP/got" || true
	[ "$status" -eq 130 ]
	[ "$(cat "$TMP/got")" = "got TERM" ]
}

@test "INT to cancelrun with -s USR2: the command gets USR2" {
	start_bg "$CANCELRUN" -s USR2 env CR_TEST_MARK="$MARK" \
	    "$CHILDINFO" --trap USR2 "$TMP/got"
	wait_file "$TMP/out"
	kill -INT "$BG_PID"
	wait_bg
	show_bg
	cat "$TMP/got" || true
	[ "$status" -eq 130 ]
	[ "$(cat "$TMP/got")" = "got USR2" ]
}

@test "HUP to cancelrun under --preserve-status: the command's status" {
	start_bg "$CANCELRUN" --preserve-status env CR_TEST_MARK="$MARK" \
	    "$CHILDINFO" --trap TERM "$TMP/got"
	wait_file "$TMP/out"
	kill -HUP "$BG_PID"
	wait_bg
	show_bg
	[ "$status" -eq 0 ]
	[ "$(cat "$TMP/got")" = "got TERM" ]
}

# second_signal SIG STATUS: with a command that survives the stop signal
# and a 30 s grace period, a second SIG ends the run at once.  The command
# records each TERM it gets and goes on (its sleeps die, the loop does
# not), so the test knows that cancelrun acted on the first SIG before it
# sends the second (two signals sent at once may arrive as one).
second_signal() {
	local sig="$1" want="$2" t0 t1
	cat >"$TMP/stubborn" <<-'EOF'
	trap 'echo TERM >>"$2"' TERM
	echo up >"$1"
	while :; do sleep 0.1; done
	EOF
	start_bg "$CANCELRUN" -g 30s env CR_TEST_MARK="$MARK" \
	    sh "$TMP/stubborn" "$TMP/ready" "$TMP/got"
	wait_file "$TMP/ready"
	t0="$(now_ms)"
	kill -"$sig" "$BG_PID"
	wait_file "$TMP/got"
	# The grace period is running: cancelrun waits.
	sleep 0.2
	kill -0 "$BG_PID"
	[ -n "$(marked_pids)" ]
	kill -"$sig" "$BG_PID"
	wait_bg
	t1="$(now_ms)"
	show_bg
	[ "$status" -eq "$want" ]
	[ $((t1 - t0)) -lt 10000 ]
	no_survivors
}

@test "a second TERM skips the grace period" {
	second_signal TERM 143
}

@test "a second INT skips the grace period too" {
	second_signal INT 130
}

@test "INT after the deadline began the stop skips the grace period" {
	cat >"$TMP/stubborn" <<-'EOF'
	trap 'echo TERM >>"$2"' TERM
	echo up >"$1"
	while :; do sleep 0.1; done
	EOF
	start_bg "$CANCELRUN" -t 0.3s -g 30s env CR_TEST_MARK="$MARK" \
	    sh "$TMP/stubborn" "$TMP/ready" "$TMP/got"
	wait_file "$TMP/ready"
	# The deadline's TERM came and was survived: the grace period runs.
	wait_file "$TMP/got"
	sleep 0.2
	kill -0 "$BG_PID"
	t0="$(now_ms)"
	kill -INT "$BG_PID"
	wait_bg
	t1="$(now_ms)"
	show_bg
	# One INT was enough; the deadline stays the cause.
	[ "$status" -eq 124 ]
	[ $((t1 - t0)) -lt 10000 ]
	no_survivors
}

@test "USR1 to cancelrun is forwarded to the command and does not cancel" {
	start_bg "$CANCELRUN" -t 30s env CR_TEST_MARK="$MARK" \
	    "$CHILDINFO" --trap USR1 "$TMP/got"
	wait_file "$TMP/out"
	kill -USR1 "$BG_PID"
	wait_bg
	show_bg
	cat "$TMP/got" || true
	[ "$status" -eq 0 ]
	[ "$(cat "$TMP/got")" = "got USR1" ]
	[ ! -s "$TMP/err" ]
}

@test "USR2, WINCH and ALRM are forwarded as themselves" {
	local sig
	for sig in USR2 WINCH ALRM; do
		rm -f "$TMP/got" "$TMP/out" "$TMP/err"
		start_bg "$CANCELRUN" -t 30s env CR_TEST_MARK="$MARK" \
		    "$CHILDINFO" --trap "$sig" "$TMP/got"
		wait_file "$TMP/out"
		kill -"$sig" "$BG_PID"
		wait_bg
		echo "signal $sig:"
		show_bg
		cat "$TMP/got" || true
		[ "$status" -eq 0 ]
		[ "$(cat "$TMP/got")" = "got $sig" ]
	done
}

@test "a forwarded signal that kills the command gives 128+N" {
	start_bg "$CANCELRUN" env CR_TEST_MARK="$MARK" \
	    "$CHILDINFO" --wait-signal "$TMP/ready"
	wait_file "$TMP/ready"
	kill -USR1 "$BG_PID"
	wait_bg
	show_bg
	[ "$status" -eq 138 ]
	no_survivors
}

@test "a signal sent right after the start never leaves the command running" {
	local i sig want
	for i in $(seq 1 20); do
		if [ $((i % 2)) -eq 0 ]; then
			sig=TERM want=143
		else
			sig=HUP want=129
		fi
		start_bg "$CANCELRUN" env CR_TEST_MARK="$MARK" sleep 30
		sleep "0.0$((i % 5))"
		kill -"$sig" "$BG_PID"
		wait_bg
		echo "iteration $i, $sig: status $status"
		# Whether cancelrun caught the signal or was killed by it
		# before it could, the shell sees 128+N.
		[ "$status" -eq "$want" ]
	done
	# Every iteration's sleep carries MARK (and would outlive the loop).
	no_survivors
}

@test "INT, TERM and HUP cancel even if cancelrun starts with them blocked" {
	local sig
	for sig in INT TERM HUP; do
		rm -f "$TMP/ready"
		start_bg perl -MPOSIX -e '
		    use strict;
		    my $set = POSIX::SigSet->new(SIGINT, SIGTERM, SIGHUP);
		    sigprocmask(SIG_BLOCK, $set) or die "sigprocmask: $!";
		    exec { $ARGV[0] } @ARGV or die "exec: $!";' \
		    "$CANCELRUN" env CR_TEST_MARK="$MARK" \
		    "$CHILDINFO" --wait-signal "$TMP/ready"
		wait_file "$TMP/ready"
		kill -"$sig" "$BG_PID"
		if ! wait_for gone "$BG_PID"; then
			echo "$sig: cancelrun still runs 10 s later:" \
			    "$(grep SigBlk "/proc/$BG_PID/status")"
			return 1
		fi
		wait_bg
		echo "$sig: status $status"
		[ "$status" -eq $((128 + $(kill -l "$sig"))) ]
	done
	no_survivors
}
