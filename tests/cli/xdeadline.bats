#!/usr/bin/env bats
# xdeadline.bats - issue 12, item 5: deadlines that cross processes.
#
# cancelrun gives each job its effective deadline in CANCELRUN_DEADLINE
# (seconds since the epoch, three decimals), and a cancelrun that finds it
# takes the earlier of it and its own deadline; when the inherited one
# decides, the cause is parent-deadline and the status 124.  Durations are
# asserted with wide margins only.

load helpers

# epoch_ms VALUE: "1764523200.250" as milliseconds.
epoch_ms() {
	local s=${1%.*} f=${1#*.}
	echo $((s * 1000 + 10#$f))
}

# json_field FILE KEY: the top-level string or number KEY of a JSON report.
json_field() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# job_cause FILE N: the cause of job N of a JSON report.
job_cause() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["jobs"][int(sys.argv[2])]["cause"])' "$1" "$2"
}

@test "nested: the inner cancelrun stops at the outer deadline" {
	local t0 t1
	t0=$(now_ms)
	start_bg env CR_TEST_MARK="$MARK" "$CANCELRUN" -t 2s -- \
	    "$CANCELRUN" -v -t 1h --report "$TMP/inner.json" -- sleep 30
	CR_PID=$BG_PID
	wait_bg
	t1=$(now_ms)
	[ "$status" -eq 124 ] || { cr_stderr; false; }
	[ $((t1 - t0)) -lt 6000 ] || { echo "took $((t1 - t0)) ms" >&2; false; }
	# The inner one's own stop, message and report.
	[ "$(json_field "$TMP/inner.json" status)" = 124 ]
	[ "$(json_field "$TMP/inner.json" cause)" = parent-deadline ]
	[ "$(job_cause "$TMP/inner.json" 0)" = parent-deadline ]
	grep -q "job 'sleep': cancelled (parent-deadline)" "$TMP/err" ||
	    { cr_stderr; false; }
	grep -q "'sleep' reached the deadline inherited in CANCELRUN_DEADLINE" \
	    "$TMP/err" || { cr_stderr; false; }
	assert_none_left
}

@test "nested: the parent's TERM at its deadline does not cut the grace" {
	# The outer run stops its job at the same moment as the inner one
	# does: its TERM must not count as a second signal (which would KILL
	# at once), so the job's TERM handler gets its second.
	start_bg env CR_TEST_MARK="$MARK" "$CANCELRUN" -t 1s -- \
	    "$CANCELRUN" -t 1h -- sh -c '
		trap "sleep 1; echo done > \"$1/done\"; exit 0" TERM
		echo $$ > "$1/pid"
		while :; do sleep 0.1; done' sh "$TMP"
	CR_PID=$BG_PID
	wait_bg
	[ "$status" -eq 124 ] || { cr_stderr; false; }
	[ -s "$TMP/pid" ]
	[ "$(cat "$TMP/done" 2>/dev/null)" = done ] || { cr_stderr; false; }
	assert_none_left
}

@test "min rule: an inner deadline that is earlier wins, as a timeout" {
	local t0 t1
	t0=$(now_ms)
	start_bg env CR_TEST_MARK="$MARK" "$CANCELRUN" -t 1h -- \
	    "$CANCELRUN" -t 500ms --report "$TMP/inner.json" -- sleep 30
	CR_PID=$BG_PID
	wait_bg
	t1=$(now_ms)
	# The inner run's own 124 is the outer command's status.
	[ "$status" -eq 124 ] || { cr_stderr; false; }
	[ $((t1 - t0)) -lt 4000 ]
	[ "$(json_field "$TMP/inner.json" cause)" = timeout ]
	[ "$(job_cause "$TMP/inner.json" 0)" = timeout ]
	grep -q "'sleep' timed out after 500ms" "$TMP/err" || { cr_stderr; false; }
	assert_none_left
}

@test "a job sees its effective deadline, the earliest of its own and above" {
	local t0 t1 v
	cat > "$TMP/jobs.ini" <<EOF
[cancelrun]
timeout = 1h

[job:plain]
command = sh -c 'printf %s "\$CANCELRUN_DEADLINE" > "\$0/plain"' $TMP

[job:short]
command = sh -c 'printf %s "\$CANCELRUN_DEADLINE" > "\$0/short"' $TMP
cancel-after = 30s
EOF
	t0=$(now_ms)
	run "$CANCELRUN" -q -f "$TMP/jobs.ini"
	t1=$(now_ms)
	[ "$status" -eq 0 ] || { echo "$output" >&2; false; }
	# Computed at the start, between t0 and t1, rounded down.
	v=$(cat "$TMP/plain")
	[[ $v =~ ^[0-9]+\.[0-9]{3}$ ]] || { echo "plain: '$v'" >&2; false; }
	v=$(epoch_ms "$v")
	[ "$v" -ge $((t0 + 3600000 - 1000)) ]
	[ "$v" -le $((t1 + 3600000)) ]
	v=$(cat "$TMP/short")
	[[ $v =~ ^[0-9]+\.[0-9]{3}$ ]] || { echo "short: '$v'" >&2; false; }
	v=$(epoch_ms "$v")
	[ "$v" -ge $((t0 + 30000 - 1000)) ]
	[ "$v" -le $((t1 + 30000)) ]
}

@test "a job below an inherited deadline sees it unchanged" {
	local d
	d="$(( $(date +%s) + 100 )).001"
	run env CANCELRUN_DEADLINE="$d" "$CANCELRUN" -- \
	    sh -c 'printf %s "$CANCELRUN_DEADLINE"'
	[ "$status" -eq 0 ]
	[ "$output" = "$d" ]
	# Under its own, later deadline too; a job file's jobs as well.
	run env CANCELRUN_DEADLINE="$d" "$CANCELRUN" -t 1h -- \
	    sh -c 'printf %s "$CANCELRUN_DEADLINE"'
	[ "$status" -eq 0 ]
	[ "$output" = "$d" ]
	printf '[job:a]\ncommand = sh -c %s\n' \
	    "'printf %s \"\$CANCELRUN_DEADLINE\" > \"\$0/a\"' $TMP" \
	    > "$TMP/jobs.ini"
	run env CANCELRUN_DEADLINE="$d" "$CANCELRUN" -q -f "$TMP/jobs.ini"
	[ "$status" -eq 0 ]
	[ "$(cat "$TMP/a")" = "$d" ]
}

@test "no deadline anywhere: the job has no CANCELRUN_DEADLINE" {
	run "$CANCELRUN" -- sh -c 'echo "[${CANCELRUN_DEADLINE-unset}]"'
	[ "$status" -eq 0 ]
	[ "$output" = "[unset]" ]
}

@test "a deadline in the past cancels at once with parent-deadline" {
	local t0 t1
	t0=$(now_ms)
	run env CANCELRUN_DEADLINE=1000.5 "$CANCELRUN" --report \
	    "$TMP/r.json" -- sh -c 'touch "$0/started"; sleep 30' "$TMP"
	t1=$(now_ms)
	[ "$status" -eq 124 ]
	[ $((t1 - t0)) -lt 3000 ]
	[ ! -e "$TMP/started" ]
	[ "$(json_field "$TMP/r.json" cause)" = parent-deadline ]
	[[ $output == *"reached the deadline inherited in CANCELRUN_DEADLINE before it started"* ]]
	# A job file: nothing starts, status 124.
	printf '[job:a]\ncommand = touch %s/a\n' "$TMP" > "$TMP/jobs.ini"
	run env CANCELRUN_DEADLINE=1000 "$CANCELRUN" -f "$TMP/jobs.ini"
	[ "$status" -eq 124 ]
	[ ! -e "$TMP/a" ]
	[[ $output == *parent-deadline* ]]
}

@test "a malformed CANCELRUN_DEADLINE is ignored with one warning" {
	local v bad now
	for bad in 12:00 1e9 -5 ' 17' 17. .5 inf 0x10 99999999999999; do
		run env CANCELRUN_DEADLINE="$bad" "$CANCELRUN" -- \
		    sh -c 'echo "[${CANCELRUN_DEADLINE-unset}]"'
		[ "$status" -eq 0 ] || { echo "'$bad': $output" >&2; false; }
		[ "${lines[0]}" = "cancelrun: warning: ignoring CANCELRUN_DEADLINE='$bad': expected seconds since the epoch such as 1764523200.250" ] ||
		    { echo "'$bad': $output" >&2; false; }
		# Not passed on to a job without a deadline.
		[ "${lines[1]}" = "[unset]" ]
		[ "${#lines[@]}" -eq 2 ]
	done
	# A job with a deadline gets cancelrun's own.
	now=$(now_ms)
	run env CANCELRUN_DEADLINE=soon "$CANCELRUN" -q -t 1h -- \
	    sh -c 'printf %s "$CANCELRUN_DEADLINE"'
	[ "$status" -eq 0 ]
	v=$(epoch_ms "$output")
	[ $((v - now)) -gt $((3600000 - 60000)) ]
	# Empty is none, without a word.
	run env CANCELRUN_DEADLINE= "$CANCELRUN" -- true
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "the timeout personality neither reads nor sets CANCELRUN_DEADLINE" {
	ln -s "$CANCELRUN" "$TMP/timeout"
	run env CANCELRUN_DEADLINE=1000 "$TMP/timeout" 5 \
	    sh -c 'printf %s "$CANCELRUN_DEADLINE"'
	[ "$status" -eq 0 ]
	[ "$output" = 1000 ]
}
