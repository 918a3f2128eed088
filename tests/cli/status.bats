#!/usr/bin/env bats
#
# status.bats - cancelrun's exit status and messages in the single-command
# mode: the command's own status, 124 on a deadline (TERM or KILL),
# --preserve-status, 126/127, -s and --term-seq, -t 0, the cancellation
# notice, -q and -v.
#
# Commands that should be stopped sleep for 30 s and carry MARK in their
# environment, so a test asserts that they ended long before that and
# that nothing is left (no_survivors).  Durations are never asserted
# exactly.

load helpers
bats_require_minimum_version 1.5.0

# show: print what the last run gave (bats shows it when a test fails).
show() {
	echo "status: $status"
	echo "stdout: $output"
	echo "stderr: ${stderr-}"
}

@test "the command's own exit status passes through" {
	local code
	for code in 0 1 3 255; do
		run --separate-stderr "$CANCELRUN" sh -c "exit $code"
		show
		[ "$status" -eq "$code" ]
		run --separate-stderr "$CANCELRUN" -t 30s sh -c "exit $code"
		show
		[ "$status" -eq "$code" ]
		[ -z "$stderr" ]
	done
}

@test "the command's stdout, stderr and stdin are its own" {
	run --separate-stderr "$CANCELRUN" -t 30s sh -c 'echo out; echo err >&2'
	show
	[ "$status" -eq 0 ]
	[ "$output" = out ]
	[ "$stderr" = err ]
	run bash -c 'echo hello | "$0" -t 30s cat' "$CANCELRUN"
	show
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
}

@test "death by a signal cancelrun did not send gives 128+N" {
	run --separate-stderr "$CANCELRUN" sh -c 'kill -USR1 $$'
	show
	[ "$status" -eq 138 ]
	run --separate-stderr "$CANCELRUN" -t 30s sh -c 'kill -USR1 $$'
	show
	[ "$status" -eq 138 ]
	# Not a cancellation: no notice.
	[[ "$stderr" != *"timed out"* ]]
	[[ "$stderr" != *cancel* ]]
	run --separate-stderr "$CANCELRUN" -t 30s sh -c 'kill -TERM $$'
	show
	[ "$status" -eq 143 ]
	run --separate-stderr "$CANCELRUN" -t 30s sh -c 'kill -KILL $$'
	show
	[ "$status" -eq 137 ]
}

@test "timeout: 124, what still ran, one notice line, nothing left" {
	local t0 t1
	t0="$(now_ms)"
	run --separate-stderr "$CANCELRUN" -t 0.3s \
	    env CR_TEST_MARK="$MARK" sleep 30
	t1="$(now_ms)"
	show
	[ "$status" -eq 124 ]
	[ $((t1 - t0)) -lt 15000 ]
	[ -z "$output" ]
	# The process still running at the deadline (see hangs.bats), then
	# the notice.
	[ "${#stderr_lines[@]}" -eq 2 ]
	[[ "${stderr_lines[0]}" =~ ^cancelrun:\ still\ running:\ [0-9]+\ .*\ sleep\ 30$ ]]
	[[ "${stderr_lines[1]}" == cancelrun:* ]]
	[[ "${stderr_lines[1]}" == *"timed out"* ]]
	no_survivors
}

@test "timeout: -q suppresses the notice, not the status" {
	run --separate-stderr "$CANCELRUN" -q -t 0.3s \
	    env CR_TEST_MARK="$MARK" sleep 30
	show
	[ "$status" -eq 124 ]
	[ -z "$stderr" ]
	no_survivors
}

@test "-q does not suppress errors" {
	run -127 --separate-stderr "$CANCELRUN" -q "nosuch-$MARK"
	show
	[ "$status" -eq 127 ]
	[ -n "$stderr" ]
	run --separate-stderr "$CANCELRUN" -q -t 5x true
	show
	[ "$status" -eq 125 ]
	[ -n "$stderr" ]
}

@test "timeout: 124 when the command ignores TERM and needs KILL" {
	local t0 t1
	t0="$(now_ms)"
	run --separate-stderr "$CANCELRUN" -t 0.3s -g 0.5s \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO" --ignore-term
	t1="$(now_ms)"
	show
	[ "$status" -eq 124 ]
	# childinfo --ignore-term would sleep 30 s.
	[ $((t1 - t0)) -lt 15000 ]
	[[ "$stderr" == *"timed out"* ]]
	no_survivors
}

@test "--preserve-status: 143 when TERM stopped the command" {
	run --separate-stderr "$CANCELRUN" --preserve-status -t 0.3s \
	    env CR_TEST_MARK="$MARK" sleep 30
	show
	[ "$status" -eq 143 ]
	no_survivors
}

@test "--preserve-status: 137 when KILL was needed" {
	local t0 t1
	t0="$(now_ms)"
	run --separate-stderr "$CANCELRUN" --preserve-status -t 0.3s -g 0.5s \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO" --ignore-term
	t1="$(now_ms)"
	show
	[ "$status" -eq 137 ]
	[ $((t1 - t0)) -lt 15000 ]
	no_survivors
}

@test "-g 0 sends KILL right after the stop signal" {
	local t0 t1
	t0="$(now_ms)"
	run --separate-stderr "$CANCELRUN" --preserve-status -t 0.3s -g 0 \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO" --ignore-term
	t1="$(now_ms)"
	show
	[ "$status" -eq 137 ]
	[ $((t1 - t0)) -lt 8000 ]
	no_survivors
}

@test "-k is --grace" {
	run --separate-stderr "$CANCELRUN" --preserve-status -t 0.3s -k 0.5s \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO" --ignore-term
	show
	[ "$status" -eq 137 ]
	no_survivors
}

@test "--preserve-status: the command's own status if it handles TERM" {
	# The trap runs once TERM has also ended the background sleep (or
	# interrupted `wait`), and the shell exits 7.
	run --separate-stderr "$CANCELRUN" --preserve-status -t 1s \
	    env CR_TEST_MARK="$MARK" sh -c 'trap "exit 7" TERM; sleep 30 & wait'
	show
	[ "$status" -eq 7 ]
	no_survivors
	run --separate-stderr "$CANCELRUN" -t 1s \
	    env CR_TEST_MARK="$MARK" sh -c 'trap "exit 7" TERM; sleep 30 & wait'
	show
	[ "$status" -eq 124 ]
	no_survivors
}

@test "126 for a file that is not executable" {
	printf '#!/bin/sh\ntouch "$0.ran"\n' >"$TMP/noexec"
	chmod 644 "$TMP/noexec"
	run --separate-stderr "$CANCELRUN" "$TMP/noexec"
	show
	[ "$status" -eq 126 ]
	[ ! -e "$TMP/noexec.ran" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == cancelrun:* ]]
	[[ "$stderr" == *"'$TMP/noexec'"* ]]
	[[ "$stderr" == *"Permission denied"* ]]
	run --separate-stderr "$CANCELRUN" -t 30s "$TMP/noexec"
	show
	[ "$status" -eq 126 ]
}

@test "126 for a directory" {
	mkdir "$TMP/dir"
	run --separate-stderr "$CANCELRUN" "$TMP/dir"
	show
	[ "$status" -eq 126 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"'$TMP/dir'"* ]]
	[[ "$stderr" == *"Permission denied"* ]]
}

@test "127 for a missing command" {
	run -127 --separate-stderr "$CANCELRUN" "nosuch-$MARK" arg
	show
	[ "$status" -eq 127 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == cancelrun:* ]]
	[[ "$stderr" == *"'nosuch-$MARK'"* ]]
	[[ "$stderr" == *"No such file or directory"* ]]
	run -127 --separate-stderr "$CANCELRUN" -t 30s "$TMP/nosuch"
	show
	[ "$status" -eq 127 ]
}

@test "-s INT: the command gets INT on timeout" {
	run --separate-stderr "$CANCELRUN" -t 1s -s INT \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO" --trap INT "$TMP/got"
	show
	cat "$TMP/got" || true
	[ "$status" -eq 124 ]
	[ "$(cat "$TMP/got")" = "got INT" ]
}

@test "-s INT with --preserve-status: the command's own status" {
	run --separate-stderr "$CANCELRUN" --preserve-status -t 1s -s SIGINT \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO" --trap INT "$TMP/got"
	show
	[ "$status" -eq 0 ]
	[ "$(cat "$TMP/got")" = "got INT" ]
}

@test "--term-seq INT,1s,TERM: the command gets INT first" {
	run --separate-stderr "$CANCELRUN" -t 1s --term-seq INT,1s,TERM \
	    env CR_TEST_MARK="$MARK" "$CHILDINFO" --trap INT "$TMP/got"
	show
	[ "$status" -eq 124 ]
	[ "$(cat "$TMP/got")" = "got INT" ]
}

@test "--term-seq: the next step follows when the first is ignored" {
	# INT is ignored (inherited through exec), TERM is caught.
	run --separate-stderr "$CANCELRUN" -t 1s --term-seq INT,0.3s,TERM \
	    env CR_TEST_MARK="$MARK" \
	    sh -c 'trap "" INT; exec "$0" --trap TERM "$1"' "$CHILDINFO" "$TMP/got"
	show
	[ "$status" -eq 124 ]
	[ "$(cat "$TMP/got")" = "got TERM" ]
}

@test "--term-seq without KILL: grace and KILL are appended" {
	local t0 t1
	t0="$(now_ms)"
	run --separate-stderr "$CANCELRUN" --preserve-status -t 0.3s -g 0.5s \
	    --term-seq INT,0.3s,TERM env CR_TEST_MARK="$MARK" \
	    sh -c 'trap "" INT; exec "$0" --ignore-term' "$CHILDINFO"
	t1="$(now_ms)"
	show
	[ "$status" -eq 137 ]
	[ $((t1 - t0)) -lt 15000 ]
	no_survivors
}

@test "-t 0 means no deadline" {
	run --separate-stderr "$CANCELRUN" -t 0 sh -c 'sleep 0.5; exit 0'
	show
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	run --separate-stderr "$CANCELRUN" -t 0s sh -c 'sleep 0.5; exit 4'
	show
	[ "$status" -eq 4 ]
	[ -z "$stderr" ]
}

@test "no -t means no deadline" {
	run --separate-stderr "$CANCELRUN" sh -c 'sleep 0.5; exit 5'
	show
	[ "$status" -eq 5 ]
	[ -z "$stderr" ]
}

@test "-v on timeout: lines for the deadline, the signal and the status" {
	run --separate-stderr "$CANCELRUN" -v -t 0.3s \
	    env CR_TEST_MARK="$MARK" sleep 30
	show
	[ "$status" -eq 124 ]
	[ "${#stderr_lines[@]}" -ge 2 ]
	grep -qiE 'deadline|timed out|timeout' <<<"$stderr"
	grep -qE 'TERM' <<<"$stderr"
	grep -qiE '124|status' <<<"$stderr"
	no_survivors
}

@test "-v when the command exits by itself: says why the status is 3" {
	run --separate-stderr "$CANCELRUN" -v -t 30s sh -c 'exit 3'
	show
	[ "$status" -eq 3 ]
	[ -n "$stderr" ]
	grep -qE '(^|[^0-9])3([^0-9]|$)' <<<"$stderr"
	[[ "$stderr" != *"timed out"* ]]
}
