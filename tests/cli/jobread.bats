#!/usr/bin/env bats
#
# jobread.bats - issue 9: reading a job file under the same rules as the
# run (signals, limits, nesting) and values of any length.
#
# cancelrun runs with CR_TEST_MARK=$MARK in its environment, which every
# job inherits, so marked_pids finds whatever a job leaves behind.  A file
# that must not run holds a job that would create $TMP/ran.  Helpers that
# the test starts itself (a slow writer, a watchdog) carry a second mark,
# $WMARK, and are killed by PID through it.  Times are taken with bash's
# $EPOCHREALTIME around the signal and the wait, not by polling.

load helpers
bats_require_minimum_version 1.5.0

: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"

setup() {
	MARK="crtest-$$-${BATS_TEST_NUMBER}-${RANDOM}${RANDOM}"
	WMARK="crhelper-$$-${BATS_TEST_NUMBER}-${RANDOM}${RANDOM}"
	TMP="$(mktemp -d "${BATS_TMPDIR:-/tmp}/crtest.XXXXXX")"
	BG_PIDS=()
}

teardown() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	kill_marked "$WMARK"
	kill_marked
	rm -rf "$TMP"
}

# now_us: microseconds since the epoch, without starting a process.
now_us() {
	local t=${EPOCHREALTIME//[.,]/}
	echo $((10#$t))
}

# jobfile NAME: standard input to $TMP/NAME.ini, with @MARK@ and @TMP@
# replaced.
jobfile() {
	sed -e "s|@MARK@|$MARK|g" -e "s|@TMP@|$TMP|g" >"$TMP/$1.ini"
}

# two_jobs: $TMP/two.ini, whose jobs would create $TMP/ran.
two_jobs() {
	jobfile two <<'EOF'
[job:a]
command = sh -c 'touch @TMP@/ran; sleep 30'
[job:b]
command = sh -c 'touch @TMP@/ran; sleep 30'
EOF
}

# cr_start ARGS...: cancelrun in the background, marked through its
# environment, with INT at its default (bash starts background jobs with
# INT ignored).
cr_start() {
	start_bg env --default-signal=INT CR_TEST_MARK="$MARK" \
	    "$CANCELRUN" "$@"
	CR_PID=$BG_PID
}

# has_open PID WHAT: one of PID's descriptors is WHAT (a path, or a
# readlink text such as anon_inode:[signalfd]).
has_open() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" != "$2" ] || return 0
	done
	return 1
}

# signal_and_wait SIG: send SIG to cancelrun and wait for it; sets status
# and CR_MS, the milliseconds from the signal to its end.  A watchdog
# KILLs it after 20 s, so a hang fails the test instead of stalling it.
signal_and_wait() {
	local t0 t1
	env CR_TEST_MARK="$WMARK" sh -c 'sleep 20; kill -KILL "$1"' sh \
	    "$CR_PID" &
	BG_PIDS+=("$!")
	t0=$(now_us)
	kill -"$1" "$CR_PID"
	status=0
	wait "$CR_PID" || status=$?
	t1=$(now_us)
	CR_MS=$(((t1 - t0) / 1000))
	kill_marked "$WMARK"
	echo "status $status, $CR_MS ms after $1"
	echo "--- stderr:"
	cat "$TMP/err"
}

# fifo_cancel SIG STATUS ARGS...: cancelrun ARGS reads $TMP/jobs.fifo,
# which has no writer; SIG ends it with STATUS within a second, having
# started nothing.
fifo_cancel() {
	local sig=$1 want=$2
	shift 2
	two_jobs
	mkfifo "$TMP/jobs.fifo"
	cr_start "$@" "$TMP/jobs.fifo"
	wait_for has_open "$CR_PID" "$TMP/jobs.fifo"
	wait_for has_open "$CR_PID" 'anon_inode:[signalfd]'
	signal_and_wait "$sig"
	[ "$status" -eq "$want" ]
	[ "$CR_MS" -lt 1000 ]
	[ ! -e "$TMP/ran" ]
	no_survivors
}

@test "-f: INT while reading a FIFO without a writer: 130 at once" {
	fifo_cancel INT 130 -f
	grep -qx "cancelrun: reading '$TMP/jobs.fifo' cancelled by signal INT" \
	    "$TMP/err"
}

@test "-f: TERM while reading a FIFO: 143" {
	fifo_cancel TERM 143 -f
}

@test "-f: HUP while reading a FIFO: 129" {
	fifo_cancel HUP 129 -f
}

@test "-f -q: cancelled while reading, silently" {
	fifo_cancel INT 130 -q -f
	[ ! -s "$TMP/err" ]
	[ ! -s "$TMP/out" ]
}

@test "--check: INT while reading a FIFO: 130" {
	fifo_cancel INT 130 --check
}

@test "--check: TERM while reading a FIFO: 143" {
	fifo_cancel TERM 143 --check
}

@test "--check: HUP while reading a FIFO: 129" {
	fifo_cancel HUP 129 --check
}

@test "--plan: INT while reading a FIFO: 130, nothing printed" {
	fifo_cancel INT 130 --plan
	[ ! -s "$TMP/out" ]
}

@test "-f: INT while a slow process substitution is read: 130" {
	two_jobs
	cr_start -f <(exec env CR_TEST_MARK="$WMARK" sh -c \
	    'sleep 20; cat "$1"' sh "$TMP/two.ini")
	wait_for has_open "$CR_PID" 'anon_inode:[signalfd]'
	sleep 0.5
	signal_and_wait INT
	[ "$status" -eq 130 ]
	[ "$CR_MS" -lt 1000 ]
	[ ! -e "$TMP/ran" ]
	no_survivors
}

@test "-f: INT kept blocked from the start is acted on when reading" {
	# Ignored by bash for background jobs and blocked by cancelrun
	# before main: a blocked signal stays pending even when ignored.
	two_jobs
	mkfifo "$TMP/jobs.fifo"
	start_bg env CR_TEST_MARK="$MARK" "$CANCELRUN" -f "$TMP/jobs.fifo"
	CR_PID=$BG_PID
	wait_for has_open "$CR_PID" "$TMP/jobs.fifo"
	signal_and_wait INT
	[ "$status" -eq 130 ]
	[ ! -e "$TMP/ran" ]
	no_survivors
}

@test "-f: a FIFO with a slow writer is read whole and run" {
	jobfile ok <<'EOF'
[job:a]
command = sh -c 'echo a-ran'
[job:b]
command = sh -c 'echo b-ran'
EOF
	mkfifo "$TMP/jobs.fifo"
	env CR_TEST_MARK="$WMARK" sh -c 'head -c 20 "$1"; sleep 1; \
	    tail -c +21 "$1"' sh "$TMP/ok.ini" >"$TMP/jobs.fifo" &
	BG_PIDS+=("$!")
	cr_start -f "$TMP/jobs.fifo"
	wait_bg
	cat "$TMP/out" "$TMP/err"
	[ "$status" -eq 0 ]
	grep -qx '\[a\] a-ran' "$TMP/out"
	grep -qx '\[b\] b-ran' "$TMP/out"
}

# --- limits -----------------------------------------------------------------

# timed ARGS...: cancelrun ARGS to the end (at most 30 s); sets status,
# CR_MS, and $TMP/out and $TMP/err.
timed() {
	local t0 t1
	t0=$(now_us)
	cr_start "$@"
	wait_bg
	t1=$(now_us)
	CR_MS=$(((t1 - t0) / 1000))
	echo "status $status after $CR_MS ms"
	echo "--- stderr:"
	cat "$TMP/err"
}

@test "--check /dev/zero: 125 with FILE:LINE at once" {
	timed --check /dev/zero
	[ "$status" -eq 125 ]
	[ "$CR_MS" -lt 5000 ]
	grep -qx '/dev/zero:1: NUL byte in line (is this a text file?)' \
	    "$TMP/err"
}

@test "-f /dev/zero: 125, nothing started" {
	timed -f /dev/zero
	[ "$status" -eq 125 ]
	[ "$CR_MS" -lt 5000 ]
	grep -q '^/dev/zero:1: ' "$TMP/err"
}

@test "a line longer than 64 KiB: 125 with its line" {
	{
		printf '[job:a]\ncommand = touch %s/ran\n# ' "$TMP"
		head -c 70000 /dev/zero | tr '\0' x
		printf '\n'
	} >"$TMP/long.ini"
	timed -f "$TMP/long.ini"
	[ "$status" -eq 125 ]
	grep -qx "$TMP/long.ini:3: line too long (more than 65536 bytes)" \
	    "$TMP/err"
	[ ! -e "$TMP/ran" ]
}

@test "a file over 64 MiB: 125; the same file cut to 64 MiB loads" {
	printf '[job:a]\ncommand = touch %s/ran\n' "$TMP" >"$TMP/big.ini"
	yes '# a comment line that takes room, and nothing else' |
	    head -c 67200000 >>"$TMP/big.ini"
	echo >>"$TMP/big.ini"
	timed --check "$TMP/big.ini"
	[ "$status" -eq 125 ]
	[ "$CR_MS" -lt 5000 ]
	grep -Eq "^$TMP/big.ini:[0-9]+: job file too large \(the limit is 64 MiB\)$" \
	    "$TMP/err"
	timed -f "$TMP/big.ini"
	[ "$status" -eq 125 ]
	[ ! -e "$TMP/ran" ]
	truncate -s 64M "$TMP/big.ini"
	timed -q --check "$TMP/big.ini"
	[ "$status" -eq 0 ]
}

@test "a sparse file of 65 MiB: 125 quickly" {
	truncate -s 65M "$TMP/sparse.ini"
	timed --check "$TMP/sparse.ini"
	[ "$status" -eq 125 ]
	[ "$CR_MS" -lt 5000 ]
	grep -q "^$TMP/sparse.ini:1: " "$TMP/err"
}

# chain FILE N: groups g1 (outermost) to gN, each inside the one before,
# and a job in gN that would create $TMP/ran.
chain() {
	awk -v n="$2" -v tmp="$TMP" 'BEGIN {
		print "[group:g1]"
		for (i = 2; i <= n; i++)
			printf "[group:g%d]\nparent = g%d\n", i, i - 1
		printf "[job:j]\ngroup = g%d\ncommand = touch %s/ran\n", n, tmp
	}' >"$1"
}

@test "a 100,000-deep chain of groups: 125 in --check, --plan and -f" {
	local mode msg
	chain "$TMP/deep.ini" 100000
	msg="$TMP/deep.ini:129: group 'g65' is nested 65 deep: groups nest at most 64 deep"
	for mode in --check --plan -f; do
		timed "$mode" "$TMP/deep.ini"
		[ "$status" -eq 125 ]
		[ "$CR_MS" -lt 5000 ]
		[ "$(cat "$TMP/err")" = "$msg" ]
		[ ! -s "$TMP/out" ]
	done
	[ ! -e "$TMP/ran" ]
}

@test "a chain of exactly 64 groups: --check, --plan and -f accept it" {
	chain "$TMP/d64.ini" 64
	timed --check "$TMP/d64.ini"
	[ "$status" -eq 0 ]
	grep -qx "$TMP/d64.ini: ok: 1 job, 64 groups" "$TMP/out"
	timed --plan "$TMP/d64.ini"
	[ "$status" -eq 0 ]
	# 1 root, 64 groups, 1 job; the job indented 65 levels.
	[ "$(wc -l <"$TMP/out")" -eq 66 ]
	grep -Eq "^ {130}job:j  " "$TMP/out"
	grep -Eq "^ {128}group:g64  " "$TMP/out"
	timed -q -f "$TMP/d64.ini"
	[ "$status" -eq 0 ]
	[ -e "$TMP/ran" ]
}

@test "a chain of 65 groups: 125 with the line of g65's parent" {
	chain "$TMP/d65.ini" 65
	timed --plan "$TMP/d65.ini"
	[ "$status" -eq 125 ]
	[ "$(cat "$TMP/err")" = "$TMP/d65.ini:129: group 'g65' is nested 65 deep: groups nest at most 64 deep" ]
}

# --- values of any length ---------------------------------------------------

@test "a 4 KiB PATH in env and a 1 KiB URL arrive intact" {
	local path url i
	path=/usr/bin:/bin
	for ((i = 0; ${#path} < 4096; i++)); do
		path+=":/opt/tool-$i/bin"
	done
	path=${path:0:4096}
	url="https://example.com/download?"
	for ((i = 0; ${#url} < 1024; i++)); do
		url+="k$i=v%20$i&"
	done
	url=${url:0:1024}
	printf '%s' "$path" >"$TMP/want-path"
	printf '%s' "$url" >"$TMP/want-url"
	# Cut both into 50-byte pieces, each on its own indented line after
	# a line that ends in a backslash; the URL inside single quotes.
	{
		printf '[job:a]\nenv = PATH=\\\n'
		printf '%s\n' "$path" | fold -b -w 50 | sed -e 's/^/    /' \
		    -e '$!s/$/\\/'
		printf 'command = /bin/sh -c \\\n'
		printf "    'printf %%s \"\$PATH\" >%s/got-path; \\\\\n" "$TMP"
		printf "     printf %%s \"\$1\" >%s/got-url' sh '\\\\\n" "$TMP"
		printf '%s\n' "$url" | fold -b -w 50 | sed -e 's/^/    /' \
		    -e 's/$/\\/'
		printf "    '\n"
	} >"$TMP/long.ini"
	cat "$TMP/long.ini"
	# No line reaches inih's limit.
	[ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' \
	    "$TMP/long.ini")" -lt 100 ]
	timed -q -f "$TMP/long.ini"
	[ "$status" -eq 0 ]
	cmp "$TMP/want-path" "$TMP/got-path"
	cmp "$TMP/want-url" "$TMP/got-url"
}

@test "a backslash at the end: in quotes, escaped, and before blanks" {
	jobfile join <<'EOF'
[job:a]
command = sh -c 'printf "[%s]\n" "$@"' sh \
    "dou\
     ble" 'sin\
     gle' kept \
    esc\\
    odd\\\
    ends
EOF
	timed -q -f "$TMP/join.ini"
	[ "$status" -eq 0 ]
	diff - "$TMP/out" <<'EOF'
[double]
[single]
[kept]
[esc\]
[odd\ends]
EOF
	timed -q --plan "$TMP/join.ini"
	[ "$status" -eq 0 ]
	env -i LIT='a\\' JOINED='b\\c' sh -c 'printf "%s\n" "$LIT" "$JOINED"' \
	    >"$TMP/want-env"
	jobfile envs <<'EOF'
[job:a]
command = sh -c 'printf "%s\n" "$LIT" "$JOINED"'
env = LIT=a\\
env = JOINED=b\\\
      c
EOF
	timed -q -f "$TMP/envs.ini"
	[ "$status" -eq 0 ]
	cmp "$TMP/want-env" "$TMP/out"
}

@test "a backslash with no continuation line after it: FILE:LINE, 125" {
	printf '[job:a]\ncommand = touch %s/ran \\\n' "$TMP" >"$TMP/eof.ini"
	timed --check "$TMP/eof.ini"
	[ "$status" -eq 125 ]
	grep -qx "$TMP/eof.ini:2: '\\\\' at the end of the line joins it to the next, but the file ends there: remove the '\\\\'" \
	    "$TMP/err"
	printf '[job:a]\ncommand = touch %s/ran \\\ncwd = /\n' "$TMP" \
	    >"$TMP/key.ini"
	timed -f "$TMP/key.ini"
	[ "$status" -eq 125 ]
	grep -q "^$TMP/key.ini:2: .* but the next line is not indented" \
	    "$TMP/err"
	[ ! -e "$TMP/ran" ]
}
