#!/usr/bin/env bats
#
# ready.bats - issue 11, item 3: readiness checks (`ready =` in a job
# file): tcp:, unix:, output:, command: and delay:, ready-timeout and
# ready-interval.
#
# Each test writes its job file into $TMP (jobfile NAME, with @MARK@ and
# @TMP@ replaced) and runs cancelrun -v on it with a JSON report in
# $TMP/r.json.  cancelrun runs with CR_TEST_MARK=$MARK in its
# environment, which every job and every check command inherits, so
# marked_pids finds whatever is left.  A job becomes ready when the test
# says so (it creates $TMP/open): before that, nothing must say it is
# ready; after it, the -v note "job 'NAME': ready (...)" comes, and a job
# `after` it starts.  Sockets are on loopback or in $TMP.  No test asserts
# an exact duration: bounds are wide, and waits are for files.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	find_python
}

# Every run is verbose: the notes say when a job is ready.
CR_OPTS=(-v)

# job_is NAME STATE [CAUSE] [EXIT]: what the report says of job NAME
# (CAUSE "-" or none: no cause).
job_is() {
	"$CR_PYTHON" - "$TMP/r.json" "$@" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
name, state = sys.argv[2], sys.argv[3]
cause = sys.argv[4] if len(sys.argv) > 4 else "-"
j = {x["name"]: x for x in r["jobs"]}[name]
got = (j["state"], j["cause"] or "-")
if got != (state, cause) or (len(sys.argv) > 5 and
                             str(j["exit"]) != sys.argv[5]):
    print("job %s: %r exit %r, expected %r" % (name, got, j["exit"],
          (state, cause, sys.argv[5:])), file=sys.stderr)
    sys.exit(1)
EOF
}

# said TEXT: cancelrun's stderr has a line containing TEXT.
said() {
	grep -qF -- "$1" "$TMP/err"
}

# ready_said NAME: the note that job NAME is ready came.
ready_said() {
	said "job '$1': ready ("
}

# port_helper: a TCP socket on 127.0.0.1, bound to a port of the
# kernel's choice (in $PORT) but listening only once $TMP/open exists:
# until then a connect is refused.  Killed by PID in teardown.
port_helper() {
	cat >"$TMP/port.py" <<'EOF'
import os, socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while not os.path.exists(sys.argv[2]):
    time.sleep(0.02)
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
EOF
	"$CR_PYTHON" "$TMP/port.py" "$TMP/port" "$TMP/open" </dev/null \
	    >/dev/null 2>&1 &
	BG_PIDS+=("$!")
	wait_file "$TMP/port"
	PORT=$(cat "$TMP/port")
}

# not_ready_yet NAME: for a moment after the job started (it created
# $TMP/started), nothing says that job NAME is ready.
not_ready_yet() {
	wait_for test -e "$TMP/started"
	sleep 0.5
	not ready_said "$1"
}

# open_and_wait NAME: lets job NAME's check pass and waits for the note.
open_and_wait() {
	touch "$TMP/open"
	wait_for ready_said "$1"
}

# scripts: the jobs' and checks' scripts, in $TMP (a job file's lines
# must stay short).  wait_open.sh says it started ($TMP/started) and
# waits (at most 20 s) until the test creates $TMP/open; unix.py listens
# on $TMP/sock once $TMP/open exists.  wait_tests.sh waits (at most
# 20 s) until job tests has written to $TMP/order, then writes srv-end.
scripts() {
	cat >"$TMP/wait_open.sh" <<'EOF'
touch "$T/started"
i=0
while [ ! -e "$T/open" ] && [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
EOF
	cat >"$TMP/wait_tests.sh" <<'EOF'
i=0
while ! grep -qx tests "$T/order" 2>/dev/null && [ $i -lt 400 ]; do
	sleep 0.05
	i=$((i + 1))
done
echo srv-end >>"$T/order"
EOF
	cat >"$TMP/unix.py" <<'EOF'
import os, socket, subprocess, sys, time
s = socket.socket(socket.AF_UNIX)
for i in range(400):
    if os.path.exists(sys.argv[1] + "/open"):
        break
    time.sleep(0.05)
s.bind(sys.argv[1] + "/sock")
s.listen(8)
if len(sys.argv) > 2:
    subprocess.call(["sh", "-c", "T=%s . %s/wait_tests.sh" % ((sys.argv[1],) * 2)])
    sys.exit(0)
time.sleep(1)
EOF
}

# A job that waits until the test creates $TMP/open, then runs a little.
WAIT_OPEN='sh -c "T=@TMP@ . @TMP@/wait_open.sh; sleep 0.3" @MARK@'

# tries: how many times the check command ran (lines in $TMP/tries).
tries() {
	cat "$TMP/tries" 2>/dev/null | wc -l
}

# tries_at_least N
tries_at_least() {
	[ "$(tries)" -ge "$1" ]
}

# checks_running: whether a check command (marked $MARK-check) runs.
checks_running() {
	[ -n "$(marked_pids "$MARK-check")" ]
}

# --- each check ---------------------------------------------------------------

@test "tcp: ready once the port accepts, not before; the run then ends 0" {
	scripts
	port_helper
	jobfile tcp <<EOF
[job:srv]
command = $WAIT_OPEN
ready = tcp:127.0.0.1:$PORT
ready-interval = 50ms
EOF
	cr_start -f "$TMP/tcp.ini" --report "$TMP/r.json"
	not_ready_yet srv
	open_and_wait srv
	said "job 'srv': ready (tcp 127.0.0.1:$PORT)"
	cr_wait
	expect_status 0
	job_is srv succeeded
	no_survivors
}

@test "tcp: an IPv6 address in brackets" {
	"$CR_PYTHON" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
	    skip "no IPv6 loopback here"
	cat >"$TMP/port6.py" <<'EOF'
import os, socket, sys, time
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))
s.listen(8)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
EOF
	"$CR_PYTHON" "$TMP/port6.py" "$TMP/port" </dev/null >/dev/null 2>&1 &
	BG_PIDS+=("$!")
	wait_file "$TMP/port"
	jobfile tcp6 <<EOF
[job:srv]
command = sleep 1
ready = tcp:[::1]:$(cat "$TMP/port")
EOF
	crf tcp6
	expect_status 0
	said "job 'srv': ready (tcp [::1]:"
}

@test "unix: ready once the socket accepts, not before" {
	scripts
	jobfile unix <<'EOF'
[job:srv]
command = sh -c 'touch @TMP@/started; exec "$CR_PYTHON" @TMP@/unix.py @TMP@' @MARK@
ready = unix:@TMP@/sock
ready-interval = 50ms
EOF
	cr_start -f "$TMP/unix.ini" --report "$TMP/r.json"
	not_ready_yet srv
	open_and_wait srv
	said "job 'srv': ready (unix $TMP/sock)"
	cr_wait
	expect_status 0
	job_is srv succeeded
	no_survivors
}

@test "output: a matching line of stdout or stderr makes it ready" {
	scripts
	jobfile out <<'EOF'
[job:srv]
command = sh -c 'echo starting; echo listening soon >&2; T=@TMP@ . @TMP@/wait_open.sh;
    echo listening on 8080 >&2; sleep 0.5' @MARK@
ready = output:^listening on [0-9]+$

[job:other]
command = sleep 0.1
EOF
	cr_start -f "$TMP/out.ini" --report "$TMP/r.json"
	not_ready_yet srv
	open_and_wait srv
	cr_wait
	expect_status 0
	# The line still reaches cancelrun's output, prefixed.
	grep -qx '\[srv\] listening on 8080' "$TMP/err"
	grep -qx '\[srv\] starting' "$TMP/out"
	no_survivors
}

@test "output: a single job's output is prefixed, so that it can be seen" {
	jobfile out1 <<'EOF'
[job:srv]
command = sh -c 'echo up; sleep 0.2'
ready = output:up
EOF
	crf out1
	expect_status 0
	ready_said srv
	grep -qx '\[srv\] up' "$TMP/out"
}

@test "output: a CRLF line matches a regex anchored with \$" {
	jobfile crlf <<'EOF'
[job:srv]
command = sh -c 'printf "not yet\r\nup\r\n"; sleep 0.2'
ready = output:^up$
EOF
	crf crlf
	expect_status 0
	ready_said srv
}

@test "output: --output=raw is refused (125), nothing started" {
	jobfile raw <<'EOF'
[job:srv]
command = touch @TMP@/ran
ready = output:up

[job:other]
command = touch @TMP@/ran
EOF
	crf raw --output=raw
	expect_status 125
	grep -qF "$TMP/raw.ini:1: job 'srv': 'ready = output:' needs prefixed output, not --output=raw" "$TMP/err"
	[ "$(wc -l <"$TMP/err")" -eq 1 ]
	[ ! -e "$TMP/ran" ]
}

@test "output: not on the terminal job (--check: FILE:LINE, 125)" {
	jobfile term <<'EOF'
[job:srv]
command = true
terminal = yes
ready = output:up
EOF
	run "$CANCELRUN" --check "$TMP/term.ini"
	echo "$output"
	[ "$status" -eq 125 ]
	[[ "$output" == "$TMP/term.ini:4: "*"cannot see its output"* ]]
}

@test "command: ready when the check command exits 0" {
	jobfile cmd <<'EOF'
[job:srv]
command = sh -c 'touch @TMP@/started; sleep 2' @MARK@
ready = command:test -e @TMP@/open
ready-interval = 50ms
EOF
	cr_start -f "$TMP/cmd.ini" --report "$TMP/r.json"
	not_ready_yet srv
	open_and_wait srv
	said "job 'srv': ready (command 'test' exited 0)"
	cr_wait
	expect_status 0
	job_is srv succeeded
	no_survivors
}

@test "command: runs in the job's process group, cwd and environment" {
	mkdir "$TMP/wd"
	jobfile cmdenv <<'EOF'
[job:srv]
command = sh -c 'echo $$ > @TMP@/srv.pid; sleep 2' @MARK@
cwd = @TMP@/wd
env = CHECK_VAR=seen
ready = command:sh -c 'cut -d" " -f5 /proc/$$/stat > @TMP@/chk.pgid;
    pwd > @TMP@/chk.cwd; echo "$CHECK_VAR" > @TMP@/chk.env;
    [ -s @TMP@/srv.pid ]' @MARK@
ready-interval = 50ms
EOF
	crf cmdenv
	expect_status 0
	ready_said srv
	[ "$(cat "$TMP/chk.pgid")" = "$(cat "$TMP/srv.pid")" ]
	[ "$(cat "$TMP/chk.cwd")" = "$TMP/wd" ]
	[ "$(cat "$TMP/chk.env")" = seen ]
}

@test "command: a try is bounded by the interval, never two at once" {
	# Each try records itself and hangs until $TMP/open exists.
	jobfile hang <<'EOF'
[job:srv]
command = sh -c 'sleep 20' @MARK@
ready = command:bash -c 'echo $$ >> @TMP@/tries; [ -e @TMP@/open ] && exit 0;
    exec -a @MARK@-check sleep 30'
ready-interval = 100ms
EOF
	cr_start -f "$TMP/hang.ini" --report "$TMP/r.json"
	wait_for tries_at_least 4
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(marked_pids "$MARK-check" | wc -l)" -le 1 ]
		sleep 0.05
	done
	open_and_wait srv
	kill -TERM "$CR_PID"
	cr_wait
	expect_status 143
	no_survivors
}

@test "delay: ready after the delay" {
	jobfile delay <<'EOF'
[job:srv]
command = sh -c 'sleep 2' @MARK@
ready = delay:200ms
EOF
	crf delay
	expect_status 0
	ready_said srv
	said "job 'srv': ready (delay 200ms)"
	# Before the job ended.
	[ "$(grep -n "job 'srv': ready" "$TMP/err" | cut -d: -f1)" -lt \
	    "$(grep -n "job 'srv': exited" "$TMP/err" | cut -d: -f1)" ]
}

# --- not ready in time ----------------------------------------------------------

@test "a check that never passes: not-ready, exit 1, nothing left" {
	port_helper
	jobfile never <<EOF
[job:srv]
command = sh -c 'sleep 30' @MARK@
ready = tcp:127.0.0.1:$PORT
ready-timeout = 500ms
ready-interval = 50ms
EOF
	crf never
	expect_status 1
	job_is srv failed not-ready
	[ "$CR_MS" -lt 15000 ]
	no_survivors
}

@test "without ready-timeout the job's deadline bounds the check: not-ready" {
	jobfile deadline <<'EOF'
[job:srv]
command = sh -c 'sleep 30' @MARK@
cancel-after = 1s
ready = command:false
ready-interval = 50ms
EOF
	crf deadline
	expect_status 1
	job_is srv failed not-ready
	no_survivors
}

@test "a check command still running is stopped with the job" {
	jobfile chkstop <<'EOF'
[job:srv]
command = sh -c 'sleep 30' @MARK@
ready = command:bash -c 'touch @TMP@/checking; exec -a @MARK@-check sleep 30'
ready-interval = 20s
ready-timeout = 20s
EOF
	cr_start -f "$TMP/chkstop.ini" --report "$TMP/r.json"
	wait_for test -e "$TMP/checking"
	wait_for checks_running
	kill -TERM "$CR_PID"
	cr_wait
	expect_status 143
	job_is srv cancelled signal:TERM
	no_survivors
}

@test "a check command still running when ready-timeout passes is stopped" {
	jobfile chkto <<'EOF'
[job:srv]
command = sh -c 'sleep 30' @MARK@
ready = command:bash -c 'exec -a @MARK@-check sleep 30'
ready-interval = 20s
ready-timeout = 1s
EOF
	crf chkto
	expect_status 1
	job_is srv failed not-ready
	no_survivors
}

@test "a job that ends before it is ready has its own outcome, at once" {
	port_helper
	jobfile early <<EOF
[job:srv]
command = sh -c 'sleep 0.3; exit 3' @MARK@
ready = tcp:127.0.0.1:$PORT
ready-timeout = 20s
EOF
	crf early
	expect_status 1
	job_is srv failed - 3
	[ "$CR_MS" -lt 10000 ]
	not ready_said srv
	no_survivors
}

@test "once ready, cancelrun does not wake up: no timer or watcher left" {
	port_helper
	touch "$TMP/open"
	jobfile idle <<EOF
[job:a]
command = sh -c 'sleep 30' @MARK@
ready = tcp:127.0.0.1:$PORT
ready-interval = 20ms

[job:b]
command = sh -c 'echo up; exec sleep 30' @MARK@
ready = output:up

[job:c]
command = sh -c 'sleep 30' @MARK@
ready = command:true
ready-interval = 20ms

[job:d]
command = sh -c 'sleep 30' @MARK@
ready = delay:100ms
EOF
	cr_start -f "$TMP/idle.ini" --report "$TMP/r.json"
	wait_for ready_said a
	wait_for ready_said b
	wait_for ready_said c
	wait_for ready_said d
	sleep 0.2
	# The loop thread's context switches: with a 20 ms interval still
	# running there would be dozens a second.
	local before after
	before=$(awk '/ctxt_switches/ { n += $2 } END { print n }' \
	    "/proc/$CR_PID/task/$CR_PID/status")
	sleep 1
	after=$(awk '/ctxt_switches/ { n += $2 } END { print n }' \
	    "/proc/$CR_PID/task/$CR_PID/status")
	echo "context switches in 1 s: $((after - before))"
	[ $((after - before)) -le 3 ]
	kill -TERM "$CR_PID"
	cr_wait
	expect_status 143
	no_survivors
}

@test "--plan and --check show the checks" {
	jobfile plan <<'EOF'
[job:srv]
command = true
ready = tcp:127.0.0.1:8080
ready-timeout = 5s
EOF
	run "$CANCELRUN" --plan "$TMP/plan.ini"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ready=tcp:127.0.0.1:8080"* ]]
	run "$CANCELRUN" --check "$TMP/plan.ini"
	[ "$status" -eq 0 ]
}

# --- after a job with a check -----------------------------------------------

# order_is LINE...: $TMP/order holds exactly these lines.
order_is() {
	local want got
	want=$(printf '%s\n' "$@")
	got=$(cat "$TMP/order" 2>/dev/null) || true
	if [ "$got" != "$want" ]; then
		echo "order: '$got', expected '$want'" >&2
		return 1
	fi
}

# after_run NAME: runs $TMP/NAME.ini, whose job srv appends "srv" to
# $TMP/order when it starts and becomes ready only once $TMP/open exists,
# and whose job tests, after srv, appends "tests".  The test appends
# "open" just before it creates $TMP/open, a while after srv started, and
# srv then waits for tests before it ends (srv-end): the order is srv,
# open, tests, srv-end only if tests waited for srv's check, and not for
# its end.
after_run() {
	cr_start -f "$TMP/$1.ini" --report "$TMP/r.json"
	wait_for test -e "$TMP/started"
	sleep 0.5
	echo open >>"$TMP/order"
	touch "$TMP/open"
	cr_wait
	expect_status 0
	order_is srv open tests srv-end
	job_is srv succeeded
	job_is tests succeeded
	no_survivors
}

# The job that runs after srv.
TESTS_JOB='[job:tests]
after = srv
command = sh -c "echo tests >> @TMP@/order" @MARK@'

# srv's command: says it started, waits for $TMP/open, then runs on
# until tests has run.
SRV='sh -c "echo srv >> @TMP@/order; T=@TMP@ . @TMP@/wait_open.sh;
    . @TMP@/wait_tests.sh" @MARK@'

@test "after: a job after a tcp: check starts once the port accepts" {
	scripts
	port_helper
	jobfile a_tcp <<EOF
[job:srv]
command = $SRV
ready = tcp:127.0.0.1:$PORT
ready-interval = 50ms

$TESTS_JOB
EOF
	after_run a_tcp
}

@test "after: a job after a unix: check starts once the socket accepts" {
	scripts
	jobfile a_unix <<EOF
[job:srv]
command = sh -c 'echo srv >> @TMP@/order; touch @TMP@/started;
    exec "\$CR_PYTHON" @TMP@/unix.py @TMP@ wait' @MARK@
ready = unix:@TMP@/sock
ready-interval = 50ms

$TESTS_JOB
EOF
	after_run a_unix
}

@test "after: a job after an output: check starts once the line came" {
	scripts
	jobfile a_out <<EOF
[job:srv]
command = sh -c 'echo srv >> @TMP@/order; echo waiting; T=@TMP@ . @TMP@/wait_open.sh;
    echo ready now; . @TMP@/wait_tests.sh' @MARK@
ready = output:^ready now\$

$TESTS_JOB
EOF
	after_run a_out
}

@test "after: a job after a command: check starts once it exits 0" {
	scripts
	jobfile a_cmd <<EOF
[job:srv]
command = $SRV
ready = command:test -e @TMP@/open
ready-interval = 50ms

$TESTS_JOB
EOF
	after_run a_cmd
}

@test "after: a job after a delay: check starts after the delay, not the end" {
	scripts
	jobfile a_delay <<EOF
[job:srv]
command = sh -c 'echo srv >> @TMP@/order; T=@TMP@ . @TMP@/wait_tests.sh' @MARK@
ready = delay:500ms

$TESTS_JOB
EOF
	crf a_delay
	expect_status 0
	order_is srv tests srv-end
	# Not before the delay (timers may fire a little early: a wide margin).
	"$CR_PYTHON" - "$TMP/r.json" <<'EOF'
import datetime, json, sys
j = {x["name"]: x for x in json.load(open(sys.argv[1]))["jobs"]}
t = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
gap = (t(j["tests"]["started"]) - t(j["srv"]["started"])).total_seconds()
print("tests started %.3f s after srv" % gap)
sys.exit(0 if gap >= 0.3 else 1)
EOF
	no_survivors
}

@test "after: a job that is never ready: not-ready, the one after it skipped" {
	port_helper
	jobfile a_never <<EOF
[job:srv]
command = sh -c 'sleep 30' @MARK@
ready = tcp:127.0.0.1:$PORT
ready-timeout = 1s
ready-interval = 50ms

$TESTS_JOB
EOF
	crf a_never
	expect_status 1
	job_is srv failed not-ready
	job_is tests skipped dependency:srv
	[ ! -e "$TMP/order" ]
	no_survivors
}

@test "after: a job that fails before it is ready: the one after it skipped" {
	port_helper
	jobfile a_fail <<EOF
[job:srv]
command = sh -c 'sleep 0.3; exit 3' @MARK@
ready = tcp:127.0.0.1:$PORT
ready-timeout = 20s

$TESTS_JOB
EOF
	crf a_fail
	expect_status 1
	job_is srv failed - 3
	job_is tests skipped dependency:srv
	[ "$CR_MS" -lt 10000 ]
	no_survivors
}

@test "after: a job that succeeds before it is ready: the one after it runs" {
	port_helper
	jobfile a_ok <<EOF
[job:srv]
command = sh -c 'echo srv >> @TMP@/order' @MARK@
ready = tcp:127.0.0.1:$PORT
ready-timeout = 20s

$TESTS_JOB
EOF
	crf a_ok
	expect_status 0
	order_is srv tests
	job_is srv succeeded
	job_is tests succeeded
	[ "$CR_MS" -lt 10000 ]
	no_survivors
}

@test "after + main: tests after a ready server decide the outcome" {
	port_helper
	touch "$TMP/open"
	jobfile a_main <<EOF
[job:srv]
command = sh -c 'sleep 30' @MARK@
ready = tcp:127.0.0.1:$PORT
ready-interval = 50ms

[job:tests]
after = srv
main = yes
command = sh -c 'exit 1' @MARK@
EOF
	crf a_main
	expect_status 1
	job_is tests failed
	[ "$CR_MS" -lt 15000 ]
	no_survivors
}
