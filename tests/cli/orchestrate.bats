#!/usr/bin/env bats
# orchestrate.bats - issue 11: job files that run CI stacks.  A main job
# whose end ends its group; `after` (start order, and skipping what follows
# a failed step); restarts; cleanup jobs shielded from the cancellation
# that triggers them.  Jobs append to $TMP/log, so that order is read from
# the file, never from timing; the servers carry the MARK and are checked
# by PID.

load helpers

# run_file FILE [ARGS...]: runs cancelrun on FILE with MARK in the jobs'
# environment and LOG pointing at $TMP/log; sets status, $TMP/out and
# $TMP/err.
run_file() {
	local file=$1
	shift
	start_bg env CR_TEST_MARK="$MARK" LOG="$TMP/log" "$CANCELRUN" \
	    --report "$TMP/report.json" "$@" -f "$file"
	CR_PID=$BG_PID
	wait_bg
}

# json_job NAME FIELD: FIELD of job NAME in $TMP/report.json.
json_job() {
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
j = [j for j in r["jobs"] if j["name"] == sys.argv[2]][0]
print(j[sys.argv[3]])' "$TMP/report.json" "$1" "$2"
}

# stack_file TESTS_EXIT: a server that never ends by itself and tests that
# end with TESTS_EXIT after 0.5 s; tests is the main job; the group's
# deadline (30 s) is far away.
stack_file() {
	cat > "$TMP/stack.ini" <<EOF
[group:stack]
timeout = 30s
signal = INT
grace = 3s

[job:server]
group = stack
command = sh -c 'echo \$\$ > "\$LOG.server"; exec sleep 60'

[job:tests]
group = stack
main = yes
command = sh -c 'sleep 0.5; date +%s%N > "\$LOG.tests"; exit $1'
EOF
}

# ended_soon_after_tests: cancelrun (already waited for) ended less than
# 2 s after the tests did.
ended_soon_after_tests() {
	local ms=$(( ($(date +%s%N) - $(cat "$TMP/log.tests")) / 1000000 ))
	[ "$ms" -lt 2000 ] || { echo "ended ${ms} ms after the tests" >&2; false; }
}

@test "main job: the tests pass, the server is stopped, exit 0" {
	stack_file 0
	run_file "$TMP/stack.ini"
	[ "$status" -eq 0 ] || { cr_stderr; false; }
	ended_soon_after_tests
	not alive "$(cat "$TMP/log.server")"
	[ "$(json_job server cause)" = "main-ended:tests" ]
	[ "$(json_job server state)" = cancelled ]
	[ "$(json_job tests state)" = succeeded ]
	assert_none_left
}

@test "main job: the tests fail, exit 1 at once, never 124" {
	stack_file 1
	run_file "$TMP/stack.ini"
	[ "$status" -eq 1 ] || { cr_stderr; false; }
	ended_soon_after_tests
	not alive "$(cat "$TMP/log.server")"
	[ "$(json_job server cause)" = "main-ended:tests" ]
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
assert r["cause"] == "failed:tests", r["cause"]' "$TMP/report.json"
	assert_none_left
}

@test "main job: --exit-code=first-failure passes the tests' status" {
	stack_file 3
	run_file "$TMP/stack.ini" --exit-code=first-failure
	[ "$status" -eq 3 ] || { cr_stderr; false; }
	assert_none_left
}

@test "main job: a server that dies first fails the group (fail-fast)" {
	cat > "$TMP/die.ini" <<'EOF'
[job:server]
command = sh -c 'exit 7'
[job:tests]
main = yes
command = sleep 30
EOF
	run_file "$TMP/die.ini"
	[ "$status" -eq 1 ] || { cr_stderr; false; }
	[ "$(json_job tests cause)" = "sibling-failed:server" ]
	assert_none_left
}

@test "main job: two in one group is a FILE:LINE error, exit 125" {
	printf '[job:a]\ncommand = true\nmain = yes\n[job:b]\ncommand = true\nmain = yes\n' > "$TMP/two.ini"
	run "$CANCELRUN" --check "$TMP/two.ini"
	[ "$status" -eq 125 ]
	[[ "$output" == "$TMP/two.ini:6: job 'b' cannot be the main job of the root: job 'a' is (line 3)"* ]]
}

# pipeline_file BUILD_EXIT MODE: lint -> build -> (unit, integ) -> report.
# build sleeps first, so that a job started too early would write first.
pipeline_file() {
	cat > "$TMP/pipe.ini" <<EOF
[cancelrun]
mode = $2

[job:lint]
command = sh -c 'sleep 0.3; echo lint >> "\$LOG"'

[job:build]
after = lint
command = sh -c 'sleep 0.3; echo build >> "\$LOG"; exit $1'

[group:tests]
after = build

[job:unit]
group = tests
command = sh -c 'echo unit >> "\$LOG"'

[job:integ]
group = tests
command = sh -c 'sleep 0.2; echo integ >> "\$LOG"'

[job:report]
after = tests, lint
command = sh -c 'echo report >> "\$LOG"'

[job:free]
command = sh -c 'echo free >> "\$LOG"'
EOF
}

@test "after: a chain starts in order, parallel steps together" {
	pipeline_file 0 fail-fast
	run_file "$TMP/pipe.ini"
	[ "$status" -eq 0 ] || { cr_stderr; false; }
	# free waits for nothing: it is first.  unit and integ start together,
	# unit (no sleep) writes before integ.
	[ "$(grep -v free "$TMP/log" | paste -sd' ')" = "lint build unit integ report" ]
	[ "$(head -n 1 "$TMP/log")" = free ]
}

@test "after: a failed step skips what follows, cause dependency:NAME" {
	for mode in fail-fast supervise; do
		rm -f "$TMP/log"
		pipeline_file 2 "$mode"
		run_file "$TMP/pipe.ini"
		[ "$status" -eq 1 ] || { cr_stderr; false; }
		[ "$(grep -v free "$TMP/log" | paste -sd' ')" = "lint build" ]
		[ "$(json_job build state)" = failed ]
		[ "$(json_job unit state)" = skipped ]
		[ "$(json_job unit cause)" = "dependency:build" ]
		[ "$(json_job integ cause)" = "dependency:build" ]
		[ "$(json_job report state)" = skipped ]
		[ "$(json_job report cause)" = "dependency:tests" ]
	done
}

@test "after: --plan prints the order; max-parallel still holds" {
	pipeline_file 0 fail-fast
	run "$CANCELRUN" --plan "$TMP/pipe.ini"
	[ "$status" -eq 0 ]
	[[ "$output" == *"job:build  deadline=none  stop=TERM,10s,KILL  after=lint  command:"* ]]
	[[ "$output" == *"group:tests  mode=fail-fast  deadline=none  stop=TERM,10s,KILL  after=build"* ]]
	[[ "$output" == *$'order:\n  1. lint, free\n  2. build\n  3. unit, integ\n  4. report' ]]
	sed -i '1a max-parallel = 1' "$TMP/pipe.ini"
	run_file "$TMP/pipe.ini"
	[ "$status" -eq 0 ] || { cr_stderr; false; }
	# One at a time, in file order among those ready: lint, then free.
	[ "$(paste -sd' ' "$TMP/log")" = "lint free build unit integ report" ]
}

@test "after: unknown names and cycles are FILE:LINE errors, exit 125" {
	printf '[job:a]\ncommand = true\nafter = nope\n' > "$TMP/x.ini"
	run "$CANCELRUN" -f "$TMP/x.ini"
	[ "$status" -eq 125 ]
	[ "$output" = "$TMP/x.ini:3: 'after' names 'nope': there is no job or group of that name" ]
	printf '[job:a]\ncommand = touch %s\nafter = b\n[job:b]\ncommand = true\nafter = a\n' "$TMP/ran" > "$TMP/x.ini"
	run "$CANCELRUN" -f "$TMP/x.ini"
	[ "$status" -eq 125 ]
	[ "$output" = "$TMP/x.ini:3: a cycle in 'after' (each waits for the next): a -> b -> a" ]
	[ ! -e "$TMP/ran" ]
}

@test "restart = on-failure with max-restarts = 2 runs a failing job 3 times" {
	cat > "$TMP/r.ini" <<'EOF'
[job:flaky]
command = sh -c 'echo run >> "$LOG"; exit 4'
restart = on-failure
restart-delay = 100ms
max-restarts = 2
EOF
	run_file "$TMP/r.ini"
	[ "$status" -eq 1 ] || { cr_stderr; false; }
	[ "$(wc -l < "$TMP/log")" -eq 3 ]
	[ "$(json_job flaky restarts)" = 2 ]
	[ "$(json_job flaky exit)" = 4 ]
	grep -q '^flaky .* failed .* exit 4, 2 restarts ' "$TMP/err"
}

@test "restart: a job that succeeds is not restarted on-failure" {
	printf '[job:ok]\ncommand = sh -c %s\nrestart = on-failure\nrestart-delay = 50ms\n' \
	    "'echo run >> \"\$LOG\"'" > "$TMP/r.ini"
	run_file "$TMP/r.ini"
	[ "$status" -eq 0 ] || { cr_stderr; false; }
	[ "$(wc -l < "$TMP/log")" -eq 1 ]
	[ "$(json_job ok restarts)" = 0 ]
}

@test "restart = always stops when the group is cancelled (main ended)" {
	cat > "$TMP/r.ini" <<'EOF'
[job:worker]
command = sh -c 'echo run >> "$LOG"; sleep 0.2'
restart = always
restart-delay = 100ms
restart-delay-max = 400ms

[job:main]
main = yes
command = sleep 1.5
EOF
	run_file "$TMP/r.ini"
	[ "$status" -eq 0 ] || { cr_stderr; false; }
	n=$(wc -l < "$TMP/log")
	[ "$n" -ge 2 ]
	[ "$(json_job worker restarts)" -ge 1 ]
	[ "$(json_job worker state)" = cancelled ]
	[ "$(json_job worker cause)" = "main-ended:main" ]
	assert_none_left
}

@test "restart: cancel-after applies to each run" {
	cat > "$TMP/r.ini" <<'EOF'
[job:slow]
command = sh -c 'echo run >> "$LOG"; exec sleep 30'
cancel-after = 300ms
restart = on-failure
restart-delay = 50ms
max-restarts = 1
EOF
	run_file "$TMP/r.ini"
	[ "$status" -eq 124 ] || { cr_stderr; false; }
	[ "$(wc -l < "$TMP/log")" -eq 2 ]
	[ "$(json_job slow cause)" = "timeout:slow" ]
	[ "$(json_job slow restarts)" = 1 ]
	assert_none_left
}

# cleanup_file WHEN GROUP_JOB: group g (1 s deadline) runs GROUP_JOB; its
# cleanup records what it was told, then sleeps (a cleanup that hangs).
cleanup_file() {
	cat > "$TMP/c.ini" <<EOF
[group:g]
timeout = 1s

[job:work]
group = g
command = $2

[cleanup:collect]
group = g
when = $1
command = sh -c 'echo "\$CANCELRUN_GROUP|\$CANCELRUN_CAUSE|\$CANCELRUN_STATUS" > "\$LOG.tmp"; echo \$\$ >> "\$LOG.tmp"; mv "\$LOG.tmp" "\$LOG"; exec sleep \${NAP:-0}'
EOF
}

@test "cleanup: runs after a group deadline, told the cause; 2nd INT ends it" {
	cleanup_file failure "sleep 30"
	start_bg env CR_TEST_MARK="$MARK" LOG="$TMP/log" NAP=30 "$CANCELRUN" \
	    --report "$TMP/report.json" -f "$TMP/c.ini"
	CR_PID=$BG_PID
	wait_file "$TMP/log"
	[ "$(head -n 1 "$TMP/log")" = "g|timeout:g|124" ]
	cpid=$(sed -n 2p "$TMP/log")
	# The first INT leaves the cleanup running (it is shielded) ...
	kill -INT "$CR_PID"
	sleep 0.5
	alive "$cpid"
	still_running
	# ... the second one stops it at once.
	kill -INT "$CR_PID"
	wait_bg
	[ "$status" -eq 124 ] || { cr_stderr; false; }
	not alive "$cpid"
	[ "$(json_job collect state)" = cancelled ]
	[ "$(json_job collect cause)" = "signal:INT" ]
	[ "$(json_job work cause)" = "timeout:g" ]
	assert_none_left
}

@test "cleanup: its own timeout bounds it; its failure changes nothing" {
	cleanup_file failure "sh -c 'exit 3'"
	sed -i 's/^when = failure$/when = failure\ntimeout = 500ms/' "$TMP/c.ini"
	start_bg env CR_TEST_MARK="$MARK" LOG="$TMP/log" NAP=30 "$CANCELRUN" \
	    --report "$TMP/report.json" -f "$TMP/c.ini"
	CR_PID=$BG_PID
	wait_bg
	[ "$status" -eq 1 ] || { cr_stderr; false; }
	[ "$(head -n 1 "$TMP/log")" = "g|sibling-failed:work|1" ]
	[ "$(json_job collect cause)" = "timeout:collect" ]
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
assert r["cause"] == "failed:work", r["cause"]' "$TMP/report.json"
	assert_none_left
}

@test "cleanup: when = failure skips it after success; always runs it" {
	cleanup_file failure true
	run_file "$TMP/c.ini"
	[ "$status" -eq 0 ] || { cr_stderr; false; }
	[ ! -e "$TMP/log" ]
	[ "$(json_job collect state)" = skipped ]
	cleanup_file always true
	sed -i 's/exec sleep .*$/exit 5'"'"'/' "$TMP/c.ini"
	run_file "$TMP/c.ini"
	[ "$status" -eq 0 ] || { cr_stderr; false; }
	[ "$(head -n 1 "$TMP/log")" = "g||0" ]
	[ "$(json_job collect state)" = failed ]
}

@test "cleanup: the root's runs last, after a signal stopped the jobs" {
	cat > "$TMP/c.ini" <<'EOF'
[job:work]
command = sh -c 'echo started > "$LOG.work"; exec sleep 30'
[cleanup:bye]
command = sh -c 'echo "$CANCELRUN_CAUSE $CANCELRUN_STATUS" > "$LOG"'
EOF
	start_bg env CR_TEST_MARK="$MARK" LOG="$TMP/log" "$CANCELRUN" \
	    --report "$TMP/report.json" -f "$TMP/c.ini"
	CR_PID=$BG_PID
	wait_file "$TMP/log.work"
	kill -TERM "$CR_PID"
	wait_bg
	[ "$status" -eq 143 ] || { cr_stderr; false; }
	[ "$(cat "$TMP/log")" = "signal:TERM 143" ]
	[ "$(json_job bye state)" = succeeded ]
	assert_none_left
}
