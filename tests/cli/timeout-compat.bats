#!/usr/bin/env bats
#
# timeout-compat.bats - cancelrun invoked as "timeout" behaves like GNU
# coreutils timeout(1).
#
# Every case runs the same command line twice, with GNU timeout and with
# cancelrun through a link named "timeout" (each found on PATH, so both
# see argv[0] "timeout"), and asserts that both give the same exit status
# and stdout (and stderr where it is specified: -v, and nothing without
# it); it also asserts the status GNU gives, so that the expectation is
# checked against the reference.  Pointing CANCELRUN at /usr/bin/timeout
# makes every test pass but one: an interval that underflows, where we
# follow later coreutils and its tests rather than 9.1.  Skipped when no
# GNU timeout is installed (GNU_TIMEOUT names another one).

load helpers
bats_require_minimum_version 1.5.0

GNU_TIMEOUT="${GNU_TIMEOUT:-/usr/bin/timeout}"
export LC_ALL=C

setup_file() {
	if ! "$GNU_TIMEOUT" --version 2>/dev/null |
	    grep -q 'GNU coreutils'; then
		skip "no GNU timeout at $GNU_TIMEOUT"
	fi
}

# link_both: $TMP/gnu/timeout and $TMP/ours/timeout.
link_both() {
	mkdir -p "$TMP/gnu" "$TMP/ours"
	ln -sf "$GNU_TIMEOUT" "$TMP/gnu/timeout"
	ln -sf "$CANCELRUN" "$TMP/ours/timeout"
}

# both ARG...: run `timeout ARG...` with each; sets gnu_status, gnu_out,
# gnu_err and our_status, our_out, our_err, and prints them.
both() {
	local side
	link_both
	for side in gnu ours; do
		rm -f "$TMP/ran"
		eval "${side}_status=0"
		(PATH="$TMP/$side:$PATH" && exec timeout "$@") \
		    >"$TMP/$side.out" 2>"$TMP/$side.err" ||
		    eval "${side}_status=\$?"
		if [ -e "$TMP/ran" ]; then
			eval "${side}_ran=yes"
		else
			eval "${side}_ran=no"
		fi
	done
	our_status="$ours_status"
	our_ran="$ours_ran"
	gnu_out="$(cat "$TMP/gnu.out")"
	gnu_err="$(cat "$TMP/gnu.err")"
	our_out="$(cat "$TMP/ours.out")"
	our_err="$(cat "$TMP/ours.err")"
	echo "timeout $*"
	echo "  GNU:  status $gnu_status, stdout '$gnu_out', stderr '$gnu_err'"
	echo "  ours: status $our_status, stdout '$our_out', stderr '$our_err'"
}

# same STATUS: both gave STATUS and the same stdout.
same() {
	[ "$gnu_status" -eq "$1" ]
	[ "$our_status" -eq "$gnu_status" ]
	[ "$our_out" = "$gnu_out" ]
}

# same_err: both printed the same on stderr.
same_err() {
	[ "$our_err" = "$gnu_err" ]
}

@test "compat: the command's own status" {
	both 10 sh -c 'echo out; exit 0'
	same 0
	[ "$our_out" = out ]
	same_err
	both 10 sh -c 'echo out; exit 3'
	same 3
	same_err
}

@test "compat: timeout gives 124, prints nothing, stops the whole group" {
	both 0.3 env CR_TEST_MARK="$MARK" sh -c 'sleep 10; echo not reached'
	same 124
	same_err
	[ -z "$our_err" ]
	no_survivors
}

@test "compat: duration units" {
	local dur
	for dur in 0.3s 0.005m .3; do
		both "$dur" env CR_TEST_MARK="$MARK" sleep 10
		same 124
	done
}

@test "compat: -s KILL gives 137, -s INT 124" {
	local opt
	for opt in "-s KILL" "-s 9" "--signal=sigkill"; do
		# shellcheck disable=SC2086
		both $opt 0.3 env CR_TEST_MARK="$MARK" sleep 10
		same 137
	done
	both -s INT 0.3 env CR_TEST_MARK="$MARK" sleep 10
	same 124
}

@test "compat: -k 0.3s with a command that ignores TERM gives 137" {
	local t0 t1
	t0="$(now_ms)"
	# The deadline leaves the command time to start ignoring TERM, also
	# under a slow sanitizer build.
	both -k 0.3s 1.5 env CR_TEST_MARK="$MARK" "$CHILDINFO" --ignore-term
	t1="$(now_ms)"
	[ "$gnu_status" -eq 137 ]
	[ "$our_status" -eq 137 ]
	# Both runs together, against a 30 s sleep.
	[ $((t1 - t0)) -lt 20000 ]
	no_survivors
}

@test "compat: no KILL without -k, and -k 0 sends none" {
	local cmd='trap "" TERM; sleep 0.8; echo done; exit 4'
	both 0.3 env CR_TEST_MARK="$MARK" sh -c "$cmd"
	same 124
	[ "$our_out" = done ]
	both -k 0 --preserve-status 0.3 env CR_TEST_MARK="$MARK" sh -c "$cmd"
	same 4
	[ "$our_out" = done ]
}

@test "compat: --preserve-status: 143, 137 with -k, or the command's own" {
	both --preserve-status 0.3 env CR_TEST_MARK="$MARK" sleep 10
	same 143
	same_err
	# 1 s: the command must have set TERM to ignored before it comes
	# (a loaded machine once took more than 0.3 s to get there).
	both --preserve-status -k 0.3 1 env CR_TEST_MARK="$MARK" \
	    "$CHILDINFO" --ignore-term
	[ "$gnu_status" -eq 137 ]
	[ "$our_status" -eq 137 ]
	both --preserve-status 1 env CR_TEST_MARK="$MARK" \
	    sh -c 'trap "exit 7" TERM; sleep 10 & wait'
	same 7
}

@test "compat: a duration of 0 means no timeout" {
	local dur
	for dur in 0 0s; do
		both "$dur" sh -c 'sleep 0.3; echo out; exit 5'
		same 5
		same_err
	done
}

@test "compat: bad durations and signals give 125 and run nothing" {
	local dur sig
	for dur in 5x -1 "" 1m30 abc 1ss s; do
		both "$dur" touch "$TMP/ran"
		same 125
		[ "$gnu_ran" = no ]
		[ "$our_ran" = no ]
		[[ "$our_err" == "timeout: "* ]]
	done
	both -k 5x 1 touch "$TMP/ran"
	same 125
	[ "$our_ran" = no ]
	for sig in FOO SIGFOO 999 ""; do
		both -s "$sig" 1 touch "$TMP/ran"
		same 125
		[ "$gnu_ran" = no ]
		[ "$our_ran" = no ]
		[[ "$our_err" == "timeout: "* ]]
	done
}

@test "compat: missing arguments and unknown options give 125" {
	both
	same 125
	[ -n "$our_err" ]
	both 5
	same 125
	[ -n "$our_err" ]
	both --bogus 1 touch "$TMP/ran"
	same 125
	[ "$our_ran" = no ]
	both -s
	same 125
}

@test "compat: 126 (not executable, directory) and 127 (not found)" {
	printf '#!/bin/sh\necho ran\n' >"$TMP/noexec"
	chmod 644 "$TMP/noexec"
	both 10 "$TMP/noexec"
	same 126
	mkdir "$TMP/dir"
	both 10 "$TMP/dir"
	same 126
	[[ "$our_err" == "timeout: "* ]]
	both 10 "nosuch-$MARK"
	same 127
	[[ "$our_err" == "timeout: "* ]]
	both 10 "$TMP/nosuch"
	same 127
}

@test "compat: -v says which signal it sends, and only then" {
	both -v 0.3 env CR_TEST_MARK="$MARK" sleep 10
	same 124
	same_err
	[ "$our_err" = "timeout: sending signal TERM to command 'env'" ]
	both --verbose -s INT 0.3 sleep 10
	same 124
	same_err
	both -v -k 0.3 0.3 env CR_TEST_MARK="$MARK" "$CHILDINFO" --ignore-term
	[ "$gnu_status" -eq 137 ]
	[ "$our_status" -eq 137 ]
	same_err
	both -v 10 sh -c 'exit 2'
	same 2
	same_err
	[ -z "$our_err" ]
}

@test "compat: the command dying of a signal by itself" {
	both 10 sh -c 'kill -USR1 $$'
	same 138
	same_err
	both 10 sh -c 'kill -KILL $$'
	same 137
	# timeout re-raises the signal: it dies of USR1 itself.
	both 10 bash -c '"$@"; kill -l $?' _ timeout 10 sh -c 'kill -USR1 $$'
	same 0
	[ "$our_out" = USR1 ]
	link_both
	local side
	for side in gnu ours; do
		PATH="$TMP/$side:$PATH" perl -e '
		    my $pid = fork;
		    defined $pid or die "fork: $!";
		    if ($pid == 0) { exec @ARGV; exit 127 }
		    waitpid($pid, 0);
		    if ($? & 127) { printf "signal %d\n", $? & 127 }
		    else { printf "exit %d\n", $? >> 8 }' \
		    timeout 10 sh -c 'kill -USR1 $$' >"$TMP/$side.how"
	done
	echo "GNU: $(cat "$TMP/gnu.how"); ours: $(cat "$TMP/ours.how")"
	[ "$(cat "$TMP/gnu.how")" = "signal 10" ]
	[ "$(cat "$TMP/ours.how")" = "signal 10" ]
}

@test "compat: options stop at the command; --help and --version" {
	both 10 sh -c 'echo "$1"' x -v
	same 0
	[ "$our_out" = "-v" ]
	same_err
	both -s KILL -- 10 sh -c 'echo "$*"' x -k 1 -s INT
	same 0
	[ "$our_out" = "-k 1 -s INT" ]
	both --help
	[ "$gnu_status" -eq 0 ]
	[ "$our_status" -eq 0 ]
	[ -n "$our_out" ]
	both --version
	[ "$gnu_status" -eq 0 ]
	[ "$our_status" -eq 0 ]
	[ -n "$our_out" ]
}

# Under --foreground the command's process group is the caller's (the
# test's shell's); without it, it is not.
@test "compat: --foreground keeps the command in the caller's process group" {
	local shell_pgid side pgid
	shell_pgid="$(awk '{ print $5 }' /proc/$$/stat)"
	link_both
	for side in gnu ours; do
		(PATH="$TMP/$side:$PATH" && exec timeout --foreground 10 \
		    env CR_TEST_MARK="$MARK" "$CHILDINFO") >"$TMP/$side.fg"
		(PATH="$TMP/$side:$PATH" && exec timeout 10 \
		    env CR_TEST_MARK="$MARK" "$CHILDINFO") >"$TMP/$side.bg"
		echo "$side: shell pgid $shell_pgid; --foreground:" \
		    "$(grep pgid "$TMP/$side.fg"), without:" \
		    "$(grep pgid "$TMP/$side.bg")"
	done
	for side in gnu ours; do
		pgid="$(awk '$1 == "pgid" { print $2 }' "$TMP/$side.fg")"
		[ "$pgid" -eq "$shell_pgid" ]
		pgid="$(awk '$1 == "pgid" { print $2 }' "$TMP/$side.bg")"
		[ "$pgid" -ne "$shell_pgid" ]
	done
	both --foreground 0.3 env CR_TEST_MARK="$MARK" sleep 10
	same 124
	both --foreground -k 0.3 0.3 env CR_TEST_MARK="$MARK" \
	    "$CHILDINFO" --ignore-term
	[ "$gnu_status" -eq 137 ]
	[ "$our_status" -eq 137 ]
	no_survivors
}

# settle: give timeout time to get past fork().  GNU timeout has a window
# there: the command may already run (and report) before timeout's parent
# side has stored its pid, and a signal that arrives in that window makes
# GNU timeout exit 128+N at once, leaving the command running.  That is
# not what these tests compare, so both sides get the same pause.
settle() {
	sleep 0.3
}

# received SIG SIDE: start timeout (SIDE) with a command that dies of
# any signal, send SIG to timeout once the command runs; sets status.
received() {
	local sig="$1" side="$2"
	rm -f "$TMP/ready"
	start_bg env PATH="$TMP/$side:$PATH" timeout 30 \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO" --wait-signal "$TMP/ready"
	wait_file "$TMP/ready"
	settle
	kill -"$sig" "$BG_PID"
	wait_bg
	echo "$side, $sig: status $status, stderr '$(cat "$TMP/err")'"
}

@test "compat: a received TERM, INT or HUP ends both the same way" {
	local sig want gnu
	link_both
	for sig in TERM INT HUP; do
		want=$((128 + $(kill -l "$sig")))
		received "$sig" gnu
		gnu="$status"
		received "$sig" ours
		[ "$gnu" -eq "$want" ]
		[ "$status" -eq "$want" ]
	done
	no_survivors
}

@test "compat: a received TERM, INT, HUP or QUIT is forwarded as itself" {
	local sig side gnu
	link_both
	for sig in TERM INT HUP QUIT; do
		for side in gnu ours; do
			rm -f "$TMP/out" "$TMP/got.$side"
			start_bg env PATH="$TMP/$side:$PATH" timeout 30 \
			    env CR_TEST_MARK="$MARK" \
			    "$CHILDINFO" --trap "$sig" "$TMP/got.$side"
			wait_file "$TMP/out"
			settle
			kill -"$sig" "$BG_PID"
			wait_bg
			echo "$side, $sig: status $status," \
			    "got '$(cat "$TMP/got.$side" 2>/dev/null)'"
			[ "$(cat "$TMP/got.$side")" = "got $sig" ]
			if [ "$side" = gnu ]; then
				gnu="$status"
			else
				[ "$status" -eq "$gnu" ]
			fi
		done
	done
}

# What coreutils' own tests/timeout/*.sh check, each in our words and
# side by side with GNU timeout: durations in every form strtod reads,
# -s 0, exit-status signal numbers, ALRM, the signal state a caller
# leaves, a caller's child, Ctrl-C to a --foreground job, cascades.

@test "compat: durations as strtod reads them, clamped, not refused" {
	local dur
	# Long or endless: the command ends first, with its own status.
	for dur in 10.34 9.999999999 1d 1. +1 " 1" $'\t\n 10' 0x10 0x1d \
	    inf INF infinity Infinity +inf infs infinityd 1e400 1e400d \
	    2.34e+5d 4294967296 9223372036854775808 9223372036854775808d \
	    1.18973149535723176502e+4932 1e9999999999; do
		both "$dur" sh -c 'exit 3'
		same 3
		same_err
	done
	# Short: the deadline wins.
	for dur in 1e-1 0x1p-3 0X1P-3s 3e-1s 0x1.8p-3 " .2" 5e-3m 1e-320; do
		both "$dur" env CR_TEST_MARK="$MARK" sleep 10
		same 124
	done
	# Zero, however written, is no deadline.
	for dur in 0 0e5 0x0 0.0s 0d; do
		both "$dur" sh -c 'sleep 0.3; exit 5'
		same 5
	done
	both -- -0 sh -c 'exit 6'
	same 6
	no_survivors
}

@test "compat: invalid intervals give 125, GNU's message, and run nothing" {
	local dur
	for dur in invalid " -0.1" -- -1.18973149535723176502e+4932 nan \
	    NaN 42D 1e 0x "1 " "1s " 1ss 1.5.5 1d1 1,5 . in -inf; do
		if [ "$dur" = -- ]; then
			continue
		fi
		both -- "$dur" touch "$TMP/ran"
		same 125
		same_err
		[ "$gnu_ran" = no ]
		[ "$our_ran" = no ]
		[[ "$our_err" == "timeout: invalid time interval '$dur'"* ]]
	done
	for dur in invalid -1 nan 5x; do
		both --kill-after="$dur" 1 touch "$TMP/ran"
		same 125
		same_err
		[ "$our_ran" = no ]
		both -k "$dur" 1 touch "$TMP/ran"
		same 125
		[ "$our_ran" = no ]
	done
}

# coreutils asserts that an interval too small for a double still times
# out at once (1e-10000 is not 0, no timeout) and that a negative one that
# underflows is refused.  GNU 9.1 predates that: it reads both as 0, no
# deadline, so only our side is asserted.
@test "compat: an interval that underflows is not zero (later coreutils)" {
	local t0 t1
	link_both
	t0="$(now_ms)"
	run -124 env PATH="$TMP/ours:$PATH" timeout 1e-10000 \
	    env CR_TEST_MARK="$MARK" sleep 10
	run -124 env PATH="$TMP/ours:$PATH" timeout 1e-5000 \
	    env CR_TEST_MARK="$MARK" sleep 10
	t1="$(now_ms)"
	[ $((t1 - t0)) -lt 8000 ]
	run -125 env PATH="$TMP/ours:$PATH" timeout ' -1e-10000' \
	    touch "$TMP/ran"
	[ ! -e "$TMP/ran" ]
	no_survivors
}

@test "compat: the locale's decimal comma, and '.' under it" {
	mkdir -p "$TMP/loc"
	# A locale whose only difference from C is a decimal comma.
	printf '%s\n' 'LC_CTYPE' 'copy "POSIX"' 'END LC_CTYPE' 'LC_NUMERIC' \
	    'decimal_point "<U002C>"' 'thousands_sep ""' 'grouping -1' \
	    'END LC_NUMERIC' >"$TMP/comma.src"
	localedef -c -i "$TMP/comma.src" -f ANSI_X3.4-1968 \
	    "$TMP/loc/xx_XX" >/dev/null 2>&1 || true
	[ -e "$TMP/loc/xx_XX/LC_NUMERIC" ] ||
	    skip "localedef cannot build a test locale"
	export LOCPATH="$TMP/loc"
	export LC_ALL=xx_XX
	both 1,5 sh -c 'exit 3'
	same 3
	both 1.5 sh -c 'exit 3'
	same 3
	both 0,2 env CR_TEST_MARK="$MARK" sleep 10
	same 124
	both 0.2 env CR_TEST_MARK="$MARK" sleep 10
	same 124
	both -s 0 -k 0,3 0,2 env CR_TEST_MARK="$MARK" sleep 10
	same 137
	both 1,5,5 touch "$TMP/ran"
	same 125
	[ "$our_ran" = no ]
	both 1.5,5 touch "$TMP/ran"
	same 125
	[ "$our_ran" = no ]
	no_survivors
}

@test "compat: -s 0 and -s EXIT send nothing; KILL follows with -k" {
	local sig
	for sig in 0 EXIT exit SIGEXIT 128; do
		both -s "$sig" -k 0.3 0.2 env CR_TEST_MARK="$MARK" sleep 10
		same 137
	done
	both --foreground -s0 -k 0.3 0.2 env CR_TEST_MARK="$MARK" sleep 10
	same 137
	both --preserve-status -s0 -k 0.3 0.2 env CR_TEST_MARK="$MARK" \
	    sleep 10
	same 137
	# Without -k the command runs to its end; it still timed out.
	both -s0 0.2 sh -c 'sleep 0.8; echo done; exit 3'
	same 124
	[ "$our_out" = done ]
	both --preserve-status -s0 0.2 sh -c 'sleep 0.8; echo done; exit 3'
	same 3
	[ "$our_out" = done ]
	# -v names EXIT, then KILL.
	for opt in -v --verbose; do
		both "$opt" -s0 -k 0.2 0.2 env CR_TEST_MARK="$MARK" sleep 10
		same 137
		same_err
		[ "$our_err" = "timeout: sending signal EXIT to command 'env'
timeout: sending signal KILL to command 'env'" ]
	done
	no_survivors
}

@test "compat: -s takes shell exit statuses and GNU's spellings" {
	local sig
	local trap='trap "echo got INT; exit 5" INT; sleep 10 & wait'
	# 130 is the status of a death by INT: -s 130 sends INT.  The
	# command sees it (a wide deadline: its trap must be set first).
	both -s 130 2 env CR_TEST_MARK="$MARK" sh -c "$trap"
	same 124
	[ "$our_out" = "got INT" ]
	# Every spelling of INT: -v says what was sent.
	for sig in 130 2 int SIGINT sigint SIG2 sig02 258; do
		both -v -s "$sig" 0.2 env CR_TEST_MARK="$MARK" sleep 10
		same 124
		same_err
		[ "$our_err" = "timeout: sending signal INT to command 'env'" ]
	done
	for sig in 137 265 521 SIG9; do
		both -s "$sig" 0.2 env CR_TEST_MARK="$MARK" sleep 10
		same 137
	done
	# Accepted names and numbers, sending nothing here.
	for sig in IOT CLD POLL RTMIN rtmin+1 SIGRTMAX-1 34 64 192 RTMIN+01; do
		both -s "$sig" 10 sh -c 'exit 4'
		same 4
	done
	# Refused: no such signal, after GNU's arithmetic too.
	for sig in 32 33 65 127 193 255 383 384 386 511 2147483648 \
	    4294967305 " 9" "+9" "9 " -9 0x9 SIG SIGSIGTERM SIG32 SIG130 \
	    RTMIN+31 RTMAX-31 RTMIN-1 UNUSED LOST "SIG+9" ""; do
		both -s "$sig" 10 touch "$TMP/ran"
		same 125
		same_err
		[ "$gnu_ran" = no ]
		[ "$our_ran" = no ]
	done
	no_survivors
}

@test "compat: -v names every signal as GNU does" {
	local n
	for n in 1 2 3 6 7 8 10 12 13 14 15 16 23 24 25 26 27 28 29 30 31 \
	    34 35 48 49 50 51 63 64; do
		both -v -s "$n" 0.01 env CR_TEST_MARK="$MARK" sleep 0.5
		same_err
		[[ "$our_err" == "timeout: sending signal "* ]]
	done
	no_survivors
}

# alrm SIDE ARG...: start `timeout ARG...` (SIDE), send it ALRM once
# $TMP/ready exists; sets status.
alrm() {
	local side="$1"
	shift
	rm -f "$TMP/ready"
	start_bg env PATH="$TMP/$side:$PATH" timeout "$@"
	wait_file "$TMP/ready"
	settle
	kill -ALRM "$BG_PID"
	wait_bg
	echo "$side: ALRM: status $status, stderr '$(cat "$TMP/err")'"
}

@test "compat: an ALRM received is the deadline" {
	local side gnu
	link_both
	for side in gnu ours; do
		rm -f "$TMP/got.$side"
		alrm "$side" -s INT 30 env CR_TEST_MARK="$MARK" "$CHILDINFO" \
		    --trap INT "$TMP/got.$side" --wait-signal "$TMP/ready"
		[ "$status" -eq 124 ]
		[ "$(cat "$TMP/got.$side")" = "got INT" ]
		alrm "$side" --preserve-status 30 env CR_TEST_MARK="$MARK" \
		    "$CHILDINFO" --wait-signal "$TMP/ready"
		[ "$status" -eq 143 ]
		# A second ALRM under -k sends KILL at once.
		rm -f "$TMP/ready"
		start_bg env PATH="$TMP/$side:$PATH" timeout -k 20 30 \
		    env CR_TEST_MARK="$MARK" sh -c \
		    'trap "" TERM; touch "$1"; sleep 30' sh "$TMP/ready"
		wait_for test -e "$TMP/ready"
		settle
		kill -ALRM "$BG_PID"
		sleep 0.3
		kill -ALRM "$BG_PID"
		wait_bg
		echo "$side: two ALRMs under -k: status $status"
		[ "$status" -eq 137 ]
	done
	no_survivors
}

# timeout -s ALRM (outer) runs timeout -s INT (inner): ALRM sent to the
# outer is its deadline, it sends ALRM to the inner, whose deadline it is
# in turn, and the command, in a process group of its own, gets INT.
@test "compat: cascaded timeouts reach a command in its own group" {
	local side inner t0 t1
	link_both
	for side in gnu ours; do
		rm -f "$TMP/ready" "$TMP/got.$side"
		t0="$(now_ms)"
		start_bg env PATH="$TMP/$side:$PATH" timeout -s ALRM 30 \
		    timeout -s INT 25 env CR_TEST_MARK="$MARK" "$CHILDINFO" \
		    --trap INT "$TMP/got.$side" --wait-signal "$TMP/ready"
		wait_file "$TMP/ready"
		settle
		kill -ALRM "$BG_PID"
		wait_bg
		t1="$(now_ms)"
		echo "$side: status $status, got '$(cat "$TMP/got.$side")'"
		[ "$status" -eq 124 ]
		[ "$(cat "$TMP/got.$side")" = "got INT" ]
		[ $((t1 - t0)) -lt 15000 ]
	done
	no_survivors
}

@test "compat: ALRM blocked or CHLD ignored by the caller changes nothing" {
	local side
	link_both
	for side in gnu ours; do
		run -124 env PATH="$TMP/$side:$PATH" perl -MPOSIX -e '
		    sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGALRM))
			or die "sigprocmask: $!";
		    exec @ARGV or die "exec: $!"' \
		    timeout 0.2 env CR_TEST_MARK="$MARK" sleep 10
		run -0 env PATH="$TMP/$side:$PATH" \
		    sh -c 'trap "" CHLD; exec timeout 10 true'
		run -0 env PATH="$TMP/$side:$PATH" \
		    sh -c 'trap "" CHLD; exec timeout 10 sleep 0'
		run -124 env PATH="$TMP/$side:$PATH" \
		    sh -c 'trap "" CHLD; exec timeout 0.2 sleep 10'
	done
	no_survivors
}

# A child the caller started before exec'ing timeout is timeout's child
# too; its end must not be taken for the command's.
@test "compat: a child timeout did not start is no confusion" {
	local side
	link_both
	for side in gnu ours; do
		run -124 env PATH="$TMP/$side:$PATH" MARK="$MARK" sh -c '
		    CR_TEST_MARK=$MARK sleep 0.1 &
		    exec timeout 0.8 env CR_TEST_MARK=$MARK \
			sh -c "sleep 3; echo foo"'
		[ -z "$output" ]
	done
	no_survivors
}

# A shell script in a session of its own ignores INT and runs
# timeout --foreground in the background; INT to the whole group, as a
# terminal's Ctrl-C would send, reaches the command, which handles it.
@test "compat: Ctrl-C to a --foreground timeout's group reaches the command" {
	local side
	link_both
	for side in gnu ours; do
		rm -f "$TMP/ready" "$TMP/got.$side"
		start_bg env PATH="$TMP/$side:$PATH" setsid sh -c '
		    trap "" INT
		    timeout --foreground 25 env CR_TEST_MARK="$1" "$2" \
			--trap INT "$3" --wait-signal "$4" &
		    wait' sh "$MARK" "$CHILDINFO" "$TMP/got.$side" "$TMP/ready"
		wait_file "$TMP/ready"
		settle
		[ "$(awk '{ print $5 }' "/proc/$BG_PID/stat")" -eq "$BG_PID" ]
		kill -INT -- "-$BG_PID"
		wait_bg
		echo "$side: status $status, got '$(cat "$TMP/got.$side")'"
		[ "$(cat "$TMP/got.$side")" = "got INT" ]
	done
	no_survivors
}

@test "compat: a PIPE ignored by the caller is ignored by the command" {
	local side st
	link_both
	for side in gnu ours; do
		st="$(PATH="$TMP/$side:$PATH" bash -c \
		    'trap "" PIPE; timeout 10 yes 2>"$1" | :
		    echo "${PIPESTATUS[0]}"' bash "$TMP/$side.err")"
		echo "$side: status $st, stderr '$(cat "$TMP/$side.err")'"
		[ "$st" -eq 1 ]
		grep -q "Broken pipe" "$TMP/$side.err"
	done
	# Not ignored: yes dies of PIPE, and so does timeout.
	for side in gnu ours; do
		st="$(PATH="$TMP/$side:$PATH" bash -c \
		    'trap - PIPE; timeout 10 yes 2>"$1" | :
		    echo "${PIPESTATUS[0]}"' bash "$TMP/$side.err")"
		echo "$side: status $st"
		[ "$st" -eq 141 ]
		[ ! -s "$TMP/$side.err" ]
	done
}

@test "compat: the basic cases of coreutils' timeout.sh" {
	both 10 true
	same 0
	both 1d true
	same 0
	both 0 true
	same 0
	both 10 sleep 0
	same 0
	both 10 sh -c 'exit 2'
	same 2
	both .1 env CR_TEST_MARK="$MARK" sleep 10
	same 124
	both --preserve-status .1 env CR_TEST_MARK="$MARK" sleep 10
	same 143
	both -s0 -k1 .1 env CR_TEST_MARK="$MARK" sleep 10
	same 137
	both --foreground -s0 -k1 .1 env CR_TEST_MARK="$MARK" sleep 10
	same 137
	both 10 .
	same 126
	both 10 "no_such-$MARK"
	same 127
	no_survivors
}

@test "compat: as PID 1 of a PID namespace" {
	local side
	unshare --pid --fork --map-root-user true 2>/dev/null ||
	    skip "unshare --pid --fork --map-root-user is not available"
	link_both
	for side in gnu ours; do
		run -0 env PATH="$TMP/$side:$PATH" unshare --pid --fork \
		    --map-root-user timeout 10 sleep 0.3
		run -124 env PATH="$TMP/$side:$PATH" unshare --pid --fork \
		    --map-root-user timeout .1 env CR_TEST_MARK="$MARK" sleep 10
	done
	no_survivors
}
