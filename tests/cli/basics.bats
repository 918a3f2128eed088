#!/usr/bin/env bats
#
# basics.bats - help, version and usage errors of the single-command mode.
#
# A usage error exits 125 with one line on stderr that names the problem
# (a "Try 'cancelrun --help'" hint may follow it) and starts nothing: each
# bad command line below carries a command that would create $TMP/ran,
# and the file must not exist afterwards.

load helpers
bats_require_minimum_version 1.5.0

# The long options of the CLI contract (issue 2) that --help must mention.
LONG_OPTIONS=(--timeout --grace --kill-after --signal --term-seq
    --preserve-status --foreground --leftovers --verbose --quiet --help
    --version)

# usage_error ARG...: run cancelrun with ARG... followed by `touch
# $TMP/ran`; assert exit 125, nothing on stdout, one error line on stderr
# ("cancelrun: " and a lowercase word), and that nothing ran.  Sets
# errline to the error line.
usage_error() {
	run --separate-stderr "$CANCELRUN" "$@" touch "$TMP/ran"
	echo "args: $* touch \$TMP/ran"
	echo "status: $status"
	echo "stdout: $output"
	echo "stderr: $stderr"
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ ! -e "$TMP/ran" ]
	error_line
}

# error_line: $stderr holds exactly one error line, optionally followed by
# a "Try ..." hint; sets errline.
error_line() {
	local line n=0
	errline=
	while IFS= read -r line; do
		case "$line" in
		Try\ *) ;;
		*)
			n=$((n + 1))
			errline="$line"
			;;
		esac
	done <<<"$stderr"
	[ "${#stderr_lines[@]}" -le 2 ]
	[ "$n" -eq 1 ]
	[[ "$errline" =~ ^cancelrun:\ [a-z] ]]
}

@test "--help prints usage on stdout, mentions every long option, exits 0" {
	run --separate-stderr "$CANCELRUN" --help
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ "$output" == *[Uu]sage* ]]
	local opt
	for opt in "${LONG_OPTIONS[@]}"; do
		grep -q -e "$opt" <<<"$output" || {
			echo "--help does not mention $opt"
			return 1
		}
	done
}

@test "-h is --help" {
	run --separate-stderr "$CANCELRUN" --help
	local long="$output"
	run --separate-stderr "$CANCELRUN" -h
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ -n "$output" ]
	[ "$output" = "$long" ]
}

@test "--version prints 'cancelrun 0.1.0' first and exits 0" {
	run --separate-stderr "$CANCELRUN" --version
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "cancelrun 0.1.0" ]
}

@test "-V is --version" {
	run --separate-stderr "$CANCELRUN" -V
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "cancelrun 0.1.0" ]
}

@test "--help and --version win over a command (nothing runs)" {
	run --separate-stderr "$CANCELRUN" --help touch "$TMP/ran"
	[ "$status" -eq 0 ]
	[ ! -e "$TMP/ran" ]
	run --separate-stderr "$CANCELRUN" --version touch "$TMP/ran"
	[ "$status" -eq 0 ]
	[ ! -e "$TMP/ran" ]
}

@test "missing command: 125, one line" {
	local args
	for args in "" "-t 5s" "--" "-t 5s --" "-q -v -g 1s"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$CANCELRUN" $args
		echo "args: '$args' status: $status stderr: $stderr"
		[ "$status" -eq 125 ]
		[ -z "$output" ]
		error_line
		[[ "$errline" == *command* ]]
	done
}

@test "unknown long option: 125, names it, runs nothing" {
	usage_error --bogus
	[[ "$errline" == *--bogus* ]]
}

@test "unknown short option: 125, names it, runs nothing" {
	usage_error -Z
	[[ "$errline" == *Z* ]]
}

@test "option without its argument: 125" {
	run --separate-stderr "$CANCELRUN" -t
	echo "status: $status stderr: $stderr"
	[ "$status" -eq 125 ]
	error_line
	run --separate-stderr "$CANCELRUN" --grace
	echo "status: $status stderr: $stderr"
	[ "$status" -eq 125 ]
	error_line
}

# bad_durations OPTION: every malformed duration for OPTION is refused.
bad_durations() {
	local opt="$1" dur
	for dur in 5x -1s 1e400s "" 1m30 1.2.3s s 5s5 nan infs -inf 1e-1 0x; do
		usage_error "$opt" "$dur"
		[[ "$errline" == *"'$dur'"* ]] || {
			echo "the error does not quote '$dur'"
			return 1
		}
	done
	# The attached forms too.
	usage_error "$opt=5x"
}

@test "bad durations for -t/--timeout: 125, quoted, runs nothing" {
	bad_durations --timeout
	usage_error -t 5x
	usage_error -t-1s
}

@test "bad durations for -g/--grace: 125, quoted, runs nothing" {
	bad_durations --grace
	usage_error -g 5x
}

@test "bad durations for -k/--kill-after: 125, quoted, runs nothing" {
	bad_durations --kill-after
	usage_error -k 1e400s
}

@test "inf and infinity: no deadline, and a grace that never sends KILL" {
	local dur
	for dur in inf infinity INF; do
		run "$CANCELRUN" -t "$dur" -- sh -c 'exit 3'
		[ "$status" -eq 3 ]
	done
	# The command outlives TERM and ends by itself: with -g inf nothing
	# kills it; with a short grace KILL does.
	run "$CANCELRUN" -q -t 0.2 -g inf -- env CR_TEST_MARK="$MARK" \
	    sh -c 'trap "" TERM; sleep 1; echo done'
	echo "-g inf: status $status, output '$output'"
	[ "$status" -eq 124 ]
	[ "$output" = done ]
	run "$CANCELRUN" -q -t 0.2 -g 0.2 -- env CR_TEST_MARK="$MARK" \
	    sh -c 'trap "" TERM; sleep 1; echo done'
	echo "-g 0.2: status $status, output '$output'"
	[ "$status" -eq 124 ]
	[ -z "$output" ]
	no_survivors
}

@test "good durations are accepted" {
	local dur
	for dur in 250ms 1.5s 30s 2m 1h30m 1d 10 0 0s; do
		run --separate-stderr "$CANCELRUN" -t "$dur" -g "$dur" \
		    sh -c 'echo ran; exit 0'
		echo "duration '$dur': status $status, stderr: $stderr"
		[ "$status" -eq 0 ]
		[ "$output" = ran ]
	done
}

@test "unknown signal for -s: 125, quoted, runs nothing" {
	local sig
	for sig in FOO SIGFOO 999 -1 "" TERMX; do
		usage_error -s "$sig"
		[[ "$errline" == *"'$sig'"* ]] || {
			echo "the error does not quote '$sig'"
			return 1
		}
	done
	usage_error --signal=FOO
}

@test "signal spellings for -s are accepted" {
	local sig
	for sig in TERM SIGTERM term 15 INT KILL 9 usr1; do
		run --separate-stderr "$CANCELRUN" -s "$sig" -t 10s true
		echo "signal '$sig': status $status, stderr: $stderr"
		[ "$status" -eq 0 ]
	done
}

@test "bad --term-seq: 125, runs nothing" {
	local seq
	for seq in "" "INT,5x,TERM" "FOO,1s,TERM" "INT,1s,BOGUS" ",1s,TERM" \
	    "INT,,TERM" "INT,-1s,TERM"; do
		usage_error --term-seq "$seq"
	done
	usage_error --term-seq=FOO
}

@test "good --term-seq is accepted" {
	run --separate-stderr "$CANCELRUN" --term-seq INT,5s,TERM,5s,KILL \
	    -t 10s true
	echo "status $status, stderr: $stderr"
	[ "$status" -eq 0 ]
	run --separate-stderr "$CANCELRUN" --term-seq INT,1s,TERM true
	echo "status $status, stderr: $stderr"
	[ "$status" -eq 0 ]
}

@test "bad --leftovers: 125, quoted, runs nothing" {
	local policy
	for policy in bogus "" killall; do
		usage_error "--leftovers=$policy"
		[[ "$errline" == *"'$policy'"* ]]
	done
}

@test "good --leftovers policies are accepted" {
	local policy
	for policy in kill wait leave; do
		run --separate-stderr "$CANCELRUN" "--leftovers=$policy" true
		echo "policy '$policy': status $status, stderr: $stderr"
		[ "$status" -eq 0 ]
	done
}

@test "-- ends the options" {
	run --separate-stderr "$CANCELRUN" -t 10s -- sh -c 'echo "$*"' x -t 5
	echo "status $status, stdout: $output, stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "-t 5" ]
	[ -z "$stderr" ]
}

@test "after --, an option-like word is the command" {
	run -127 --separate-stderr "$CANCELRUN" -- --version
	echo "status $status, stdout: $output, stderr: $stderr"
	[ "$status" -eq 127 ]
	[[ "$output" != *"cancelrun 0.1.0"* ]]
	[[ "$stderr" == *"'--version'"* ]]
}

@test "options stop at the first non-option" {
	run --separate-stderr "$CANCELRUN" -t 5s sh -c 'echo "$1"' x -v
	echo "status $status, stdout: $output, stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "-v" ]
	# -v went to the command, so cancelrun is not verbose.
	[ -z "$stderr" ]

	run --separate-stderr "$CANCELRUN" sh -c 'echo "$*"' x --help -t 5x
	echo "status $status, stdout: $output, stderr: $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "--help -t 5x" ]
}

@test "the command's arguments reach it unchanged" {
	run --separate-stderr "$CANCELRUN" sh -c 'printf "[%s]\n" "$@"' x \
	    "" "a b" "*" "--" "-q"
	echo "status $status, stdout: $output"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '[%s]\n' "" "a b" "*" "--" "-q")" ]
}
