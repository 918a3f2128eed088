#!/usr/bin/env bats
# jobend.bats - issue 10: a job whose command exits ends without a sweep of
# all of /proc, but only when nothing of its tree is left.
#
# The cases run job files at max-parallel = 2, so that other jobs run while
# a command exits (with a single job left, "no children at all" already
# told the tree was empty).  What a command leaves behind must still be
# found and stopped under --leftovers=kill: in its own process group, below
# a member of that group that left it, or re-parented to cancelrun after a
# setsid.  Leftovers are bash scripts that record their PID and whether
# TERM reached them; every check is by PID, and teardown kills by MARK.

load helpers

# leftover_script: $TMP/left, run as `bash $TMP/left NAME`: records its PID
# in $TMP/NAME.pid, and "term" in $TMP/NAME.term when TERM arrives (then
# exits); otherwise runs for a long time.  Its argv carries the MARK.
leftover_script() {
	cat > "$TMP/left" <<'EOF'
trap 'echo term > "$TMP_DIR/$1.term"; exit 0' TERM
echo $$ > "$TMP_DIR/$1.pid.tmp"
mv "$TMP_DIR/$1.pid.tmp" "$TMP_DIR/$1.pid"
while :; do sleep 0.05; done
EOF
}

# jobs_with FIRST_COMMAND: a job file at max-parallel = 2 whose first job
# runs FIRST_COMMAND, then four more jobs: two that outlive it, and short
# ones.  Written to $TMP/jobs.ini.
jobs_with() {
	cat > "$TMP/jobs.ini" <<EOF
[cancelrun]
max-parallel = 2

[job:first]
command = $1

[job:long]
command = sleep 1.5

[job:next]
command = sleep 0.5

[job:short]
command = true

[job:last]
command = sleep 0.3
EOF
}

# run_jobs: runs cancelrun -v --leftovers=kill on $TMP/jobs.ini, marked,
# with TMP_DIR set for the scripts; sets status, $TMP/out and $TMP/err.
run_jobs() {
	start_bg env CR_TEST_MARK="$MARK" TMP_DIR="$TMP" "$CANCELRUN" -v \
	    --leftovers=kill --output=raw -f "$TMP/jobs.ini"
	wait_bg
}

@test "a setsid grandchild re-parented to cancelrun is stopped (P=2)" {
	leftover_script
	# The command starts the grandchild in a session of its own and
	# exits once it runs there: it is re-parented to cancelrun while
	# other jobs still run.  Then no job can be sure it is its own (it
	# goes to the last job left, or to the end of the run): the check is
	# that it is found and stopped before cancelrun exits.
	jobs_with "bash -c 'setsid bash \"\$0/left\" gc & \
while ! test -s \"\$0/gc.pid\"; do sleep 0.01; done' $TMP"
	run_jobs
	[ "$status" -eq 0 ]
	gc=$(cat "$TMP/gc.pid")
	[ -n "$gc" ]
	# It was in a session of its own (left the job's process group), and
	# TERM reached it: the stop sequence found it.
	[ "$(cat "$TMP/gc.term")" = term ]
	# cancelrun waited for it: gone (and reaped) when cancelrun exits.
	not alive "$gc"
	grep -q "leftover process.* still running: stopping them" "$TMP/err"
	grep -q "exit status 0" "$TMP/err"
	for job in first long next short last; do
		grep -q "job '$job': exited with status 0" "$TMP/err"
	done
	no_survivors
}

@test "with one job left, its setsid grandchild is its own (P=2)" {
	leftover_script
	# The other job is done when the command exits: the orphan the
	# command left is re-parented to cancelrun, outside its group, and
	# only cancelrun's list of children tells it is there.
	cat > "$TMP/jobs.ini" <<EOF
[cancelrun]
max-parallel = 2

[job:first]
command = bash -c 'setsid bash "\$0/left" gc & \
while ! test -s "\$0/gc.pid"; do sleep 0.01; done; sleep 0.5' $TMP

[job:short]
command = true
EOF
	run_jobs
	[ "$status" -eq 0 ]
	gc=$(cat "$TMP/gc.pid")
	[ "$(cat "$TMP/gc.term")" = term ]
	not alive "$gc"
	grep -q "job 'short': exited with status 0" "$TMP/err"
	grep -Eq "job 'first': [0-9]+ leftover process(es)? still running: stopping them" \
	    "$TMP/err"
	no_survivors
}

@test "a leftover in the job's own process group is the job's (P=2)" {
	leftover_script
	# Still in the group when the command exits: the group is not empty,
	# so the job ends only after its leftover, and names it.
	jobs_with "bash -c 'bash \"\$0/left\" grp & \
while ! test -s \"\$0/grp.pid\"; do sleep 0.01; done' $TMP"
	run_jobs
	[ "$status" -eq 0 ]
	grp=$(cat "$TMP/grp.pid")
	[ "$(cat "$TMP/grp.term")" = term ]
	not alive "$grp"
	grep -Eq "job 'first': [0-9]+ leftover process(es)? still running: stopping them" \
	    "$TMP/err"
	no_survivors
}

@test "a setsid process below a member of the group is the job's (P=2)" {
	leftover_script
	# The grandchild left the group, but its parent is still in it when
	# the command exits: the job owns both and stops both.
	jobs_with "bash -c '(setsid bash \"\$0/left\" gc2 & \
echo \$BASHPID > \"\$0/mid.pid\"; exec sleep 1000) & \
while ! test -s \"\$0/gc2.pid\"; do sleep 0.01; done' $TMP"
	run_jobs
	[ "$status" -eq 0 ]
	gc2=$(cat "$TMP/gc2.pid")
	mid=$(cat "$TMP/mid.pid")
	[ "$(cat "$TMP/gc2.term")" = term ]
	not alive "$gc2"
	not alive "$mid"
	grep -Eq "job 'first': [0-9]+ leftover processes still running: stopping them" \
	    "$TMP/err"
	no_survivors
}

@test "many short jobs at max-parallel 2 all succeed, one by one" {
	{
		echo "[cancelrun]"
		echo "max-parallel = 2"
		for i in $(seq 1 300); do
			echo "[job:j$i]"
			echo "command = sh -c 'echo \$0 >> \"\$1/ran\"' j$i $TMP"
		done
	} > "$TMP/jobs.ini"
	start_bg env CR_TEST_MARK="$MARK" "$CANCELRUN" -v --output=raw \
	    -f "$TMP/jobs.ini"
	wait_bg
	[ "$status" -eq 0 ]
	# Every job ran once, and none found anything left to stop.
	[ "$(sort -u "$TMP/ran" | wc -l)" -eq 300 ]
	[ "$(wc -l < "$TMP/ran")" -eq 300 ]
	[ "$(grep -c "exited with status 0" "$TMP/err")" -eq 300 ]
	not grep -q "leftover" "$TMP/err"
	grep -q "exit status 0" "$TMP/err"
	no_survivors
}
