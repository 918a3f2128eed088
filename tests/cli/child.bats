#!/usr/bin/env bats
#
# child.bats - the command starts clean, proven from its own side.
#
# childinfo, run as the command, reports its pid, process group, session,
# parent, the SigBlk/SigIgn/SigCgt masks of /proc/self/status and its open
# descriptors.  The command must have its own process group (cancelrun's
# under --foreground), an empty signal mask, every signal at SIG_DFL and
# only descriptors 0, 1 and 2, whatever state cancelrun itself was
# started in.  Each "started with ..." test first runs childinfo directly
# under the same wrapper, to prove that the wrapper does what it claims.

load helpers
bats_require_minimum_version 1.5.0

ZERO=0000000000000000

# info KEY FILE: the value childinfo reported for KEY in FILE.
info() {
	awk -v k="$1" '$1 == k { sub(/^[^ ]+ /, ""); print; exit }' "$2"
}

# run_bg CMD...: run CMD in the background, wait (bounded) for it, and
# show its output; sets status.  $TMP/out holds childinfo's report.
run_bg() {
	start_bg "$@"
	wait_bg
	echo "status: $status"
	echo "stdout:"
	cat "$TMP/out"
	echo "stderr:"
	cat "$TMP/err"
}

# assert_clean FILE [SIGIGN]: the report in FILE shows a clean start (but
# for the ignored signals SIGIGN, by default none).
assert_clean() {
	[ "$(info sigblk "$1")" = "$ZERO" ]
	[ "$(info sigign "$1")" = "${2:-$ZERO}" ]
	[ "$(info sigcgt "$1")" = "$ZERO" ]
	[ "$(info fds "$1")" = "0 1 2" ]
}

# Wrappers (command prefixes) that start a program in a given state; they
# exec the rest of their arguments, so they can be chained (BLOCKED last:
# bash empties its signal mask when it starts).
IGNORED=(bash -c 'trap "" INT QUIT PIPE USR1 USR2 HUP TERM ALRM TSTP TTIN TTOU
	exec "$@"' _)
BLOCKED=(perl -MPOSIX -e '
	use strict;
	my $set = POSIX::SigSet->new(SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGCHLD,
	    SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE);
	sigprocmask(SIG_BLOCK, $set) or die "sigprocmask: $!";
	exec { $ARGV[0] } @ARGV or die "exec: $!";')
# SigIgn with HUP alone: what a nohup'd cancelrun leaves ignored.
HUP_ONLY=0000000000000001
FDS=(bash -c 'exec 5</dev/null 7>/dev/null 200</dev/null; exec "$@"' _)

@test "the command has its own process group, below cancelrun" {
	start_bg "$CANCELRUN" \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO" --wait-signal "$TMP/info"
	wait_file "$TMP/info"
	cat "$TMP/info"
	local pid pgid ppid sid cr_pgid cr_sid cr_out child_out
	pid="$(info pid "$TMP/info")"
	pgid="$(info pgid "$TMP/info")"
	ppid="$(info ppid "$TMP/info")"
	sid="$(info sid "$TMP/info")"
	cr_pgid="$(stat_field "$BG_PID" 3)"
	cr_sid="$(stat_field "$BG_PID" 4)"
	cr_out="$(readlink "/proc/$BG_PID/fd/1")"
	child_out="$(readlink "/proc/$pid/fd/1")"
	echo "cancelrun $BG_PID: pgid $cr_pgid sid $cr_sid stdout $cr_out"
	echo "child stdout $child_out"
	# End the command by itself: TERM from outside, not from cancelrun.
	kill -TERM "$pid"
	wait_bg
	echo "status: $status"
	[ "$status" -eq 143 ]
	[ "$ppid" -eq "$BG_PID" ]
	[ "$pgid" -eq "$pid" ]
	[ "$pgid" -ne "$cr_pgid" ]
	# A new process group, not a new session.
	[ "$sid" -eq "$cr_sid" ]
	[ "$child_out" = "$cr_out" ]
}

@test "--foreground: the command stays in cancelrun's process group" {
	start_bg "$CANCELRUN" --foreground env CR_TEST_MARK="$MARK" \
	    "$CHILDINFO" --wait-signal "$TMP/info"
	wait_file "$TMP/info"
	cat "$TMP/info"
	local pid pgid ppid cr_pgid
	pid="$(info pid "$TMP/info")"
	pgid="$(info pgid "$TMP/info")"
	ppid="$(info ppid "$TMP/info")"
	cr_pgid="$(stat_field "$BG_PID" 3)"
	echo "cancelrun $BG_PID: pgid $cr_pgid"
	kill -TERM "$pid"
	wait_bg
	echo "status: $status"
	[ "$status" -eq 143 ]
	[ "$ppid" -eq "$BG_PID" ]
	[ "$pgid" -eq "$cr_pgid" ]
	[ "$pgid" -ne "$pid" ]
}

@test "the command starts with no signal blocked, ignored or caught" {
	run --separate-stderr "$CANCELRUN" env CR_TEST_MARK="$MARK" "$CHILDINFO"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "$output" >"$TMP/report"
	assert_clean "$TMP/report"
}

@test "... also under -t, -s and --foreground" {
	run --separate-stderr "$CANCELRUN" -t 30s -s INT -g 5s --foreground \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "$output" >"$TMP/report"
	assert_clean "$TMP/report"
}

@test "... even when cancelrun is started with signals ignored" {
	run_bg "${IGNORED[@]}" env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	# The wrapper works: INT (bit 2) and more are ignored.
	[ "$(info sigign "$TMP/out")" != "$ZERO" ]

	# HUP ignored (nohup) stays ignored: bit 0 alone.
	run_bg "${IGNORED[@]}" "$CANCELRUN" \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	assert_clean "$TMP/out" "$HUP_ONLY"

	run_bg "${IGNORED[@]}" "$CANCELRUN" --foreground \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	assert_clean "$TMP/out" "$HUP_ONLY"
}

@test "... even when cancelrun is started with signals blocked" {
	run_bg "${BLOCKED[@]}" env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	[ "$(info sigblk "$TMP/out")" != "$ZERO" ]

	run_bg "${BLOCKED[@]}" "$CANCELRUN" \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	assert_clean "$TMP/out"

	run_bg "${BLOCKED[@]}" "$CANCELRUN" -t 30s --foreground \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	assert_clean "$TMP/out"
}

@test "cancelrun started with signals blocked still times out" {
	run_bg "${BLOCKED[@]}" "$CANCELRUN" -t 0.3s env CR_TEST_MARK="$MARK" \
	    sleep 30
	[ "$status" -eq 124 ]
	no_survivors
}

@test "the command has only descriptors 0, 1 and 2" {
	run --separate-stderr "$CANCELRUN" env CR_TEST_MARK="$MARK" "$CHILDINFO"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "$output" >"$TMP/report"
	[ "$(info fds "$TMP/report")" = "0 1 2" ]
}

@test "... even when cancelrun is started with more descriptors open" {
	run_bg "${FDS[@]}" env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	# The wrapper works: 5, 7 and 200 are open.
	local fds=" $(info fds "$TMP/out") "
	[[ "$fds" == *" 5 "* && "$fds" == *" 7 "* && "$fds" == *" 200 "* ]]

	run_bg "${FDS[@]}" "$CANCELRUN" env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	assert_clean "$TMP/out"

	run_bg "${FDS[@]}" "$CANCELRUN" -t 30s --foreground \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	assert_clean "$TMP/out"
}

@test "... and all of it at once" {
	run_bg "${FDS[@]}" "${IGNORED[@]}" "${BLOCKED[@]}" \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	[ "$(info sigblk "$TMP/out")" != "$ZERO" ]
	[ "$(info sigign "$TMP/out")" != "$ZERO" ]
	[ "$(info fds "$TMP/out")" != "0 1 2" ]

	run_bg "${FDS[@]}" "${IGNORED[@]}" "${BLOCKED[@]}" "$CANCELRUN" -t 30s \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	assert_clean "$TMP/out" "$HUP_ONLY"
}

@test "as timeout, the command keeps the ignored signals it would under GNU" {
	[ -x /usr/bin/timeout ] || skip "no GNU timeout to compare with"
	mkdir -p "$TMP/gnu" "$TMP/ours"
	ln -s /usr/bin/timeout "$TMP/gnu/timeout"
	ln -s "$CANCELRUN" "$TMP/ours/timeout"
	run_bg "${IGNORED[@]}" "$TMP/gnu/timeout" 30 \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	gnu_ign=$(info sigign "$TMP/out")
	# The wrapper works: what GNU passes on is not empty.
	[ "$gnu_ign" != "$ZERO" ]
	run_bg "${IGNORED[@]}" "$TMP/ours/timeout" 30 \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	echo "gnu: $gnu_ign ours: $(info sigign "$TMP/out")"
	[ "$(info sigign "$TMP/out")" = "$gnu_ign" ]
	[ "$(info sigblk "$TMP/out")" = "$ZERO" ]
}

@test "as timeout, the command keeps the blocked mask it would under GNU" {
	[ -x /usr/bin/timeout ] || skip "no GNU timeout to compare with"
	mkdir -p "$TMP/gnu" "$TMP/ours"
	ln -s /usr/bin/timeout "$TMP/gnu/timeout"
	ln -s "$CANCELRUN" "$TMP/ours/timeout"
	run_bg "${BLOCKED[@]}" "$TMP/gnu/timeout" 30 \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	gnu_blk=$(info sigblk "$TMP/out")
	[ "$gnu_blk" != "$ZERO" ]
	run_bg "${BLOCKED[@]}" "$TMP/ours/timeout" 30 \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO"
	[ "$status" -eq 0 ]
	echo "gnu: $gnu_blk ours: $(info sigblk "$TMP/out")"
	[ "$(info sigblk "$TMP/out")" = "$gnu_blk" ]
}
