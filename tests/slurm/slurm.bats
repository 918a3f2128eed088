#!/usr/bin/env bats
# slurm.bats - cancelrun under a real Slurm (make check-slurm).
#
# Runs against the one-node cluster that tests/slurm/run started (or the
# one SLURM_CLUSTER_DIR names): its env file gives SLURM_CONF.  The jobs
# that wait for Slurm's own clock (the one-minute time limit, and the
# deadlines taken from the allocation's end) are all submitted at once by
# setup_file and run side by side; each test then waits for its own.
# Slurm checks time limits every 30 s, so the time-limit job ends 60 to
# 95 s after it starts: the file takes about 100 s.
#
# Without slurmdbd, sacct reads the job completion file (jobcomp/filetxt,
# sacct -c): its state (TIMEOUT, CANCELLED...) and exit code.  Each job's
# process tree writes its PIDs to a file (tests/slurm/hangs); a test
# asserts that none of them is left, and teardown_file KILLs any that is,
# by PID.

setup_file() {
	: "${SLURM_CLUSTER_DIR:?run through tests/slurm/run (make check-slurm)}"
	# shellcheck disable=SC1091
	. "$SLURM_CLUSTER_DIR/env"
	export SLURM_CONF
	export W="$BATS_FILE_TMPDIR"
	export HANGS="$TOP_SRCDIR/tests/slurm/hangs"
	cd "$W" || return 1

	# (a) Slurm's time limit: TERM to the job's processes, KILL KillWait
	# (20 s) later.  The batch shell outlives the TERM (trap) to write
	# cancelrun's status; Slurm's KILL would end it before that.
	batch timelimit --time=1 <<-JOB
	trap 'echo batch: TERM' TERM
	"$CANCELRUN" --grace 5s -- "$HANGS" "$W/timelimit.pids" crtest-timelimit
	echo "cancelrun-status=\$?"
	JOB

	# (d) The deadline from the allocation's end: less 30s + 5s.
	batch auto --time=1 <<-JOB
	"$CANCELRUN" --timeout auto --grace 30s --report "$W/auto.json" \
	    -- "$HANGS" "$W/auto.pids" crtest-auto
	echo "cancelrun-status=\$?"
	JOB

	# (d) An explicit --timeout: the earlier of it and the allocation's
	# end wins, each with its own cause.
	batch cap --time=1 <<-JOB
	"$CANCELRUN" --timeout 1s --report "$W/short.json" -- sleep 100
	echo "short-status=\$?"
	"$CANCELRUN" --timeout 10m --grace 20s --report "$W/cap.json" \
	    -- sleep 600
	echo "cap-status=\$?"
	JOB

	# The example: its own #SBATCH lines, cancelrun from PATH.
	JOBID_example=$(PATH="$(dirname "$CANCELRUN"):$PATH" \
	    sbatch --parsable --chdir="$TOP_SRCDIR/examples/slurm" \
	    --output="$W/example.out" "$TOP_SRCDIR/examples/slurm/job.sbatch")
	echo "$JOBID_example" > "$W/example.id"
}

teardown_file() {
	local f pid
	for f in "$W"/*.id; do
		[ -f "$f" ] && scancel --signal=KILL --full "$(cat "$f")" \
		    2>/dev/null
	done
	for f in "$W"/*.pids; do
		[ -f "$f" ] || continue
		for pid in $(cat "$f"); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	return 0
}

setup() {
	# shellcheck disable=SC1091
	. "$SLURM_CLUSTER_DIR/env"
	cd "$W" || return 1
}

# not CMD...: succeeds if CMD fails (`! CMD` cannot fail a bats test).
not() {
	if "$@"; then return 1; fi
	return 0
}

# batch NAME SBATCH-OPTION... < BODY: submits BODY as a bash batch job
# with its output in $W/NAME.out; its id goes to $W/NAME.id.
batch() {
	local name=$1
	shift
	{ echo '#!/bin/bash'; cat; } > "$W/$name.sh"
	sbatch --parsable --job-name="crtest-$name" --output="$W/$name.out" \
	    "$@" "$W/$name.sh" > "$W/$name.id" || return 1
}

# job_state ID: Slurm's state of job ID (PENDING, RUNNING, TIMEOUT...).
job_state() {
	squeue -h -t all -j "$1" -o %T 2>/dev/null
}

# wait_done NAME SECS: wait for job NAME to leave Slurm's queue, at most
# SECS seconds.
wait_done() {
	local id i=0
	id=$(cat "$W/$1.id")
	while :; do
		case $(job_state "$id") in
		PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED) ;;
		*) return 0 ;;
		esac
		[ $i -lt $(($2 * 10)) ] || {
			echo "job $1 ($id) still $(job_state "$id") after $2 s"
			return 1
		}
		sleep 0.1
		i=$((i + 1))
	done
}

# wait_lines FILE N SECS: wait until FILE has N lines.
wait_lines() {
	local i=0
	while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ]; do
		[ $i -lt $(($3 * 10)) ] || { echo "$1: not $2 lines"; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
}

# sacct_field NAME FIELD: FIELD (State, ExitCode) of job NAME as sacct
# reports it from the job completion file; waits up to 10 s for the
# record.
sacct_field() {
	local id v i=0
	id=$(cat "$W/$1.id")
	while :; do
		v=$(sacct -c -n -P -j "$id" -o "$2" 2>/dev/null | head -n 1)
		[ -z "$v" ] || break
		[ $i -lt 100 ] || break
		sleep 0.1
		i=$((i + 1))
	done
	echo "$v"
}

# all_gone PIDFILE: every PID in PIDFILE has ended (zombies count as
# ended: their parent is gone or reaping).  A step's task is killed by
# slurmstepd, which may report the step ended while the killed task is
# still on its way out; so a PID has up to 5 s to go.
all_gone() {
	local pid left i=0
	while :; do
		left=
		for pid in $(cat "$1"); do
			if [ -e "/proc/$pid" ] &&
			    not grep -q '^State:.*Z' "/proc/$pid/status" \
			    2>/dev/null
			then
				left="$left $pid"
			fi
		done
		[ -n "$left" ] && [ $i -lt 50 ] || break
		sleep 0.1
		i=$((i + 1))
	done
	[ -z "$left" ] || { echo "left running:$left"; ps -o pid,stat,args \
	    -p "${left# }" || true; return 1; }
}

# json_cause FILE: the run's cause in a cancelrun JSON report.
json_cause() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["cause"])' "$1"
}

# step_count NAME: job NAME's steps other than the batch step, now.
step_count() {
	squeue -h -s -j "$(cat "$W/$1.id")" -o %i 2>/dev/null |
	    grep -vc '\.batch$' || true
}

@test "scancel: cancelrun stops the whole tree within its grace, exits 143" {
	batch scancel --time=5 <<-JOB
	trap 'echo batch: TERM' TERM
	"$CANCELRUN" --grace 5s -- "$HANGS" "$W/scancel.pids" crtest-scancel
	echo "cancelrun-status=\$?"
	JOB
	wait_lines "$W/scancel.pids" 3 30
	scancel "$(cat "$W/scancel.id")"
	# TERM now, Slurm's KILL 20 s later: cancelrun's KILL comes at 5 s.
	wait_done scancel 19
	cat "$W/scancel.out"
	grep -q '^cancelrun-status=143$' "$W/scancel.out"
	grep -q "cancelled by signal TERM" "$W/scancel.out"
	grep -q "KILL" "$W/scancel.out"
	all_gone "$W/scancel.pids"
	[ "$(sacct_field scancel State)" = CANCELLED ] ||
	    [[ "$(sacct_field scancel State)" == "CANCELLED by"* ]]
}

@test "a job file of srun steps: its deadline cancels the steps, none left" {
	cat > "$W/steps.ini" <<-INI
	[cancelrun]
	timeout = 6s
	grace = 3s
	[job:one]
	command = srun --exact --ntasks=1 $HANGS $W/steps.pids crtest-step-one
	[job:two]
	command = srun --exact --ntasks=1 $HANGS $W/steps.pids crtest-step-two
	INI
	batch steps --ntasks=2 --time=5 <<-JOB
	"$CANCELRUN" --report "$W/steps.json" -f "$W/steps.ini"
	echo "cancelrun-status=\$?"
	echo "steps-left=\$(squeue -h -s -j \$SLURM_JOB_ID -o %i |
	    grep -vc '\.batch\$')"
	JOB
	wait_done steps 40
	cat "$W/steps.out"
	grep -q '^cancelrun-status=124$' "$W/steps.out"
	grep -q '^steps-left=0$' "$W/steps.out"
	[ "$(json_cause "$W/steps.json")" = timeout ]
	[ "$(wc -l < "$W/steps.pids")" -eq 6 ]
	all_gone "$W/steps.pids"
}

@test "a job file of srun steps: INT to cancelrun cancels them, none left" {
	cat > "$W/int.ini" <<-INI
	[cancelrun]
	grace = 3s
	[job:one]
	command = srun --exact --ntasks=1 $HANGS $W/int.pids crtest-int-one
	[job:two]
	command = srun --exact --ntasks=1 $HANGS $W/int.pids crtest-int-two
	INI
	batch int --ntasks=2 --time=5 <<-JOB
	"$CANCELRUN" -f "$W/int.ini" &
	echo \$! > "$W/int.cr"
	wait \$!
	echo "cancelrun-status=\$?"
	echo "steps-left=\$(squeue -h -s -j \$SLURM_JOB_ID -o %i |
	    grep -vc '\.batch\$')"
	JOB
	wait_lines "$W/int.pids" 6 30
	[ "$(step_count int)" -eq 2 ]
	# The batch shell, and so cancelrun, run on this machine.
	kill -INT "$(cat "$W/int.cr")"
	wait_done int 30
	cat "$W/int.out"
	grep -q '^cancelrun-status=130$' "$W/int.out"
	grep -q '^steps-left=0$' "$W/int.out"
	all_gone "$W/int.pids"
}

@test "--timeout auto: the allocation's end less the margin, before Slurm's" {
	wait_done auto 80
	cat "$W/auto.out"
	grep -q '^cancelrun-status=124$' "$W/auto.out"
	grep -q "reached the end of the Slurm allocation less 35s" \
	    "$W/auto.out"
	[ "$(json_cause "$W/auto.json")" = allocation-end ]
	all_gone "$W/auto.pids"
	# cancelrun's own stop ended the job, not Slurm's time limit.
	[ "$(sacct_field auto State)" = COMPLETED ]
}

@test "--timeout: the earlier of it and the allocation's end wins" {
	wait_done cap 80
	cat "$W/cap.out"
	grep -q '^short-status=124$' "$W/cap.out"
	[ "$(json_cause "$W/short.json")" = timeout ]
	grep -q '^cap-status=124$' "$W/cap.out"
	[ "$(json_cause "$W/cap.json")" = allocation-end ]
	[ "$(sacct_field cap State)" = COMPLETED ]
}

@test "examples/slurm: job.sbatch runs steps.ini and checkpoints in time" {
	wait_done example 80
	cat "$W/example.out"
	# Each step ended by its USR1 trap (exit 0; KILL would give 137)
	# after cancelrun sent USR1 alone at the allocation's deadline.  The
	# trap's own line is not asserted: srun may drop a task's last
	# output when the task ends right after a signal.
	grep -Eq '^simulate +cancelled +allocation-end +exit 0 +USR1 ' \
	    "$W/example.out"
	grep -Eq '^analyse +cancelled +allocation-end +exit 0 +USR1 ' \
	    "$W/example.out"
	[ "$(sacct_field example ExitCode)" = 124:0 ]
	[ "$(sacct_field example State)" = FAILED ]
}

@test "Slurm's time limit: cancelrun stops the tree before KillWait, 143" {
	wait_done timelimit 120
	cat "$W/timelimit.out"
	# Printed only if Slurm's KILL (KillWait after its TERM) came after
	# cancelrun's whole stop: it would end the batch shell too.
	grep -q '^cancelrun-status=143$' "$W/timelimit.out"
	grep -q "cancelled by signal TERM" "$W/timelimit.out"
	grep -q "KILL" "$W/timelimit.out"
	[ "$(wc -l < "$W/timelimit.pids")" -eq 3 ]
	all_gone "$W/timelimit.pids"
	[ "$(sacct_field timelimit State)" = TIMEOUT ]
}
