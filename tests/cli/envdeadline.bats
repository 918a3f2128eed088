#!/usr/bin/env bats
# envdeadline.bats - issue 13, item 5: the deadline of the Slurm
# allocation cancelrun runs in, and --timeout auto.
#
# Inside an allocation (SLURM_JOB_ID set) cancelrun reads its end from
# SLURM_JOB_END_TIME, or else asks `squeue -h -j ID -o %e` with
# SLURM_TIME_FORMAT=%s.  Here a stand-in squeue on PATH answers (and
# records how it was asked); tests/slurm/slurm.bats runs the real one.
# The deadline is that end less the longest stop sequence and 5 s; the
# earliest of it, CANCELRUN_DEADLINE and --timeout wins, each with its own
# cause.

load helpers

json_field() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# fake_squeue ANSWER [STATUS]: a squeue on $TMP/bin that prints ANSWER,
# exits STATUS (0), and appends its arguments and SLURM_TIME_FORMAT to
# $TMP/squeue.calls.
fake_squeue() {
	mkdir -p "$TMP/bin"
	cat > "$TMP/bin/squeue" <<-SH
	#!/bin/sh
	echo "\$* fmt=\$SLURM_TIME_FORMAT" >> "$TMP/squeue.calls"
	echo "$1"
	exit ${2:-0}
	SH
	chmod +x "$TMP/bin/squeue"
}

# in_alloc CMD...: CMD as if in Slurm job 42, with the stand-in squeue.
in_alloc() {
	env -u SLURM_JOB_END_TIME -u CANCELRUN_DEADLINE SLURM_JOB_ID=42 \
	    PATH="$TMP/bin:$PATH" CR_TEST_MARK="$MARK" "$@"
}

@test "allocation end: less grace + 5s it cancels, cause allocation-end" {
	local t0 t1
	fake_squeue $(($(date +%s) + 8))
	t0=$(now_ms)
	start_bg in_alloc "$CANCELRUN" -g 1s -t 1h --report "$TMP/r.json" \
	    -- sleep 30
	CR_PID=$BG_PID
	wait_bg
	t1=$(now_ms)
	[ "$status" -eq 124 ] || { cr_stderr; false; }
	# The deadline is about 2 s away (8 - 1 - 5), give or take a second
	# for the whole seconds squeue gives.
	[ $((t1 - t0)) -lt 6000 ] || { echo "took $((t1 - t0)) ms"; false; }
	[ "$(json_field "$TMP/r.json" cause)" = allocation-end ]
	grep -q "'sleep' reached the end of the Slurm allocation less 6s" \
	    "$TMP/err" || { cr_stderr; false; }
	[ "$(cat "$TMP/squeue.calls")" = "-h -j 42 -o %e fmt=%s" ]
	no_survivors
}

@test "allocation end: the job sees it as its CANCELRUN_DEADLINE" {
	local end
	end=$(($(date +%s) + 3600))
	fake_squeue "$end"
	run in_alloc "$CANCELRUN" -t 2h -g 2s -- printenv CANCELRUN_DEADLINE
	[ "$status" -eq 0 ]
	[ "$output" = "$((end - 7)).000" ]
}

@test "allocation end: SLURM_JOB_END_TIME is used without squeue" {
	local end
	end=$(($(date +%s) + 3600))
	fake_squeue 1 1
	run in_alloc env SLURM_JOB_END_TIME="$end" "$CANCELRUN" -t 2h \
	    -g 5s -- printenv CANCELRUN_DEADLINE
	[ "$status" -eq 0 ]
	[ "$output" = "$((end - 10)).000" ]
	[ ! -e "$TMP/squeue.calls" ]
}

@test "allocation end: in a job file the margin is its longest stop" {
	local end
	end=$(($(date +%s) + 3600))
	fake_squeue "$end"
	cat > "$TMP/j.ini" <<-INI
	[job:short]
	command = printenv CANCELRUN_DEADLINE
	grace = 1s
	[job:long]
	command = true
	term-seq = INT,20s,TERM
	grace = 10s
	INI
	run in_alloc "$CANCELRUN" -t 2h -q --output=raw -f "$TMP/j.ini"
	[ "$status" -eq 0 ]
	[ "$output" = "$((end - 35)).000" ]
}

@test "an earlier --timeout wins over the allocation's end: timeout" {
	fake_squeue $(($(date +%s) + 3600))
	run in_alloc "$CANCELRUN" -t 0.3s --report "$TMP/r.json" -- sleep 30
	[ "$status" -eq 124 ]
	[ "$(json_field "$TMP/r.json" cause)" = timeout ]
}

@test "an earlier CANCELRUN_DEADLINE wins over the allocation's end" {
	local d
	fake_squeue $(($(date +%s) + 3600))
	d=$(python3 -c 'import time; print("%.3f" % (time.time() + 0.5))')
	run in_alloc env CANCELRUN_DEADLINE="$d" "$CANCELRUN" \
	    --report "$TMP/r.json" -- sleep 30
	[ "$status" -eq 124 ]
	[ "$(json_field "$TMP/r.json" cause)" = parent-deadline ]
}

@test "an allocation without a time limit: no deadline, no warning" {
	local d
	fake_squeue NONE
	run in_alloc "$CANCELRUN" -t 2h -- printenv CANCELRUN_DEADLINE
	[ "$status" -eq 0 ]
	# Its own 2 h, not less.
	d=${output%.*}
	[ "$d" -gt $(($(date +%s) + 7100)) ]
	[ -s "$TMP/squeue.calls" ]
}

@test "no deadline of its own: the allocation's end is left to Slurm" {
	fake_squeue $(($(date +%s) + 3600))
	run in_alloc "$CANCELRUN" -- printenv CANCELRUN_DEADLINE
	# printenv fails: the job has no deadline to see.
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ ! -e "$TMP/squeue.calls" ]
}

@test "squeue failing: one warning, and the command runs" {
	fake_squeue "slurm_load_jobs error" 1
	run in_alloc "$CANCELRUN" -t 1h -- echo ran
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "cancelrun: warning: cannot tell when Slurm job 42 ends (squeue failed or gave no end): its end is no deadline" ]
	[ "${lines[1]}" = ran ]
}

@test "--timeout auto outside an allocation: one line, 125, nothing run" {
	run env -u SLURM_JOB_ID -u SLURM_JOB_END_TIME -u CANCELRUN_DEADLINE \
	    "$CANCELRUN" --timeout auto -- touch "$TMP/ran"
	[ "$status" -eq 125 ]
	[ "$output" = "cancelrun: --timeout auto: no deadline in the environment (no Slurm allocation with a time limit, no CANCELRUN_DEADLINE)" ]
	[ ! -e "$TMP/ran" ]
}

@test "--timeout auto: an allocation without an end is no deadline: 125" {
	fake_squeue NONE
	run in_alloc "$CANCELRUN" -t auto -- touch "$TMP/ran"
	[ "$status" -eq 125 ]
	[ "${#lines[@]}" -eq 1 ]
	[ ! -e "$TMP/ran" ]
}

@test "--timeout auto takes CANCELRUN_DEADLINE outside an allocation" {
	local d
	d=$(python3 -c 'import time; print("%.3f" % (time.time() + 0.5))')
	run env -u SLURM_JOB_ID CANCELRUN_DEADLINE="$d" "$CANCELRUN" \
	    --timeout auto -- sleep 30
	[ "$status" -eq 124 ]
}

@test "--timeout auto inside an allocation: its end, less the margin" {
	local end
	end=$(($(date +%s) + 3600))
	fake_squeue "$end"
	run in_alloc "$CANCELRUN" -t auto -g 1s -v -- true
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "cancelrun: Slurm job 42 ends at $end.000: deadline 6s earlier" ]
}
