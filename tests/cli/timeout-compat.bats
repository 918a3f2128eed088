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
# makes every test pass.  Skipped when no GNU timeout is installed
# (GNU_TIMEOUT names another one).

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
	both -k 0.3s 0.3 env CR_TEST_MARK="$MARK" "$CHILDINFO" --ignore-term
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
	both --preserve-status -k 0.3 0.3 env CR_TEST_MARK="$MARK" \
	    "$CHILDINFO" --ignore-term
	[ "$gnu_status" -eq 137 ]
	[ "$our_status" -eq 137 ]
	both --preserve-status 0.5 env CR_TEST_MARK="$MARK" \
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
