#!/usr/bin/env bats
#
# jobfile.bats - issue 4: running INI job files (cancelrun -f FILE.ini).
#
# Each test writes its job file into $TMP from a heredoc (jobfile NAME),
# with @MARK@ and @TMP@ replaced by the test's mark and scratch directory,
# runs cancelrun on it with a JSON report in $TMP/r.json, and checks the
# exit status, the states and causes in the report, the output, and that
# nothing is left running.  cancelrun runs with CR_TEST_MARK=$MARK in its
# environment, which every job inherits, so marked_pids finds whatever a
# job leaves behind; the 1000-job test instead puts the mark in each job's
# env key.  Nothing asserts an exact duration: deadlines are short, bounds
# are wide, and a job that must be running before something happens says
# so by creating a file that the test (or a sibling job) waits for.
#
# A file that should be refused also holds a job that would create
# $TMP/ran; the file must not exist afterwards.

load helpers
bats_require_minimum_version 1.5.0

: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"

# The report is read with Python (find_python), and every run's report is
# flattened for the checks below (CR_AFTER).
setup_file() {
	find_python
}
CR_AFTER=flatten_report

# count_marked: how many live processes carry MARK in their environment.
count_marked() {
	local files=(/proc/[0-9]*/environ)
	grep -laF -- "$MARK" "${files[@]}" 2>/dev/null | wc -l
}

# rcheck EXPR...: every Python expression is true of the report, with r
# the report and j its jobs by name.
rcheck() {
	"$CR_PYTHON" - "$TMP/r.json" "$@" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
j = {x["name"]: x for x in r["jobs"]}
bad = [e for e in sys.argv[2:] if not eval(e)]
for e in bad:
    print("report check failed: " + e, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

# flatten_report: $TMP/r.json as $TMP/r.txt, one line per job: name,
# state, cause, exit, signal and the signals sent (comma-separated), with
# tabs between them and "-" for null, so that the checks below need no
# Python of their own.
flatten_report() {
	rm -f "$TMP/r.txt"
	[ -s "$TMP/r.json" ] || return 0
	"$CR_PYTHON" - "$TMP/r.json" >"$TMP/r.txt" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for x in r["jobs"]:
    f = [x["name"], x["state"], x["cause"], x["exit"], x["signal"],
         ",".join(x["signals_sent"])]
    print("\t".join("-" if v is None else str(v) for v in f))
EOF
}

# job_is NAME STATE [CAUSE]: job NAME ended in STATE with CAUSE ("-" or
# no CAUSE: null).
job_is() {
	local want="$2 ${3:--}" got
	got=$(awk -F '\t' -v n="$1" '$1 == n { print $2, $3 }' "$TMP/r.txt")
	if [ "$got" != "$want" ]; then
		echo "job $1: state, cause '$got', expected '$want'" >&2
		return 1
	fi
}

# sent_is NAME SIG...: the signals sent to job NAME, in order.
sent_is() {
	local name=$1 want got
	shift
	want=$(IFS=,; echo "$*")
	got=$(awk -F '\t' -v n="$name" '$1 == n { print $6 }' "$TMP/r.txt")
	if [ "$got" != "$want" ]; then
		echo "job $name: signals sent '$got', expected '$want'" >&2
		return 1
	fi
}

# got_is FILE TEXT: FILE (a job's record of the signals it got) holds
# exactly TEXT.
got_is() {
	local got
	got=$(cat "$1" 2>/dev/null) || true
	if [ "$got" != "$2" ]; then
		echo "$1: '$got', expected '$2'" >&2
		return 1
	fi
}

# trap_script: $TMP/trap.sh, a job that records every stop signal it gets
# in the file $OUT ("got-INT"), and exits 0 on it unless the signal is in
# $KEEP; it creates $OUT.ready once its traps are in place.
trap_script() {
	cat >"$TMP/trap.sh" <<'EOF'
for s in INT TERM HUP USR1 USR2; do
	case " $KEEP " in
	*" $s "*) trap "echo got-$s >> \"\$OUT\"" "$s" ;;
	*) trap "echo got-$s >> \"\$OUT\"; exit 0" "$s" ;;
	esac
done
: > "$OUT.ready"
while :; do sleep 0.1; done
EOF
}

# --- running a file ---------------------------------------------------------

@test "-f and --jobs run every job of a file; all succeed: exit 0" {
	jobfile ok <<'EOF'
[cancelrun]
timeout = 30s

[job:one]
command = touch @TMP@/one

[group:g]

[job:two]
group = g
command = touch @TMP@/two
EOF
	crf ok
	expect_status 0
	[ -e "$TMP/one" ]
	[ -e "$TMP/two" ]
	job_is one succeeded
	job_is two succeeded
	rcheck 'r["status"] == 0' 'r["cause"] is None' \
	    'j["two"]["group"] == "g"' 'j["one"]["group"] is None'
	rm -f "$TMP/one" "$TMP/two" "$TMP/r.json"
	cr --jobs "$TMP/ok.ini" --report "$TMP/r.json"
	expect_status 0
	[ -e "$TMP/one" ]
	[ -e "$TMP/two" ]
	job_is one succeeded
	job_is two succeeded
	no_survivors
}

@test "stop signal: the job's own, else its group's, else the root's" {
	trap_script
	jobfile inherit <<'EOF'
[cancelrun]
signal = USR2
grace = 30s

[group:g]
signal = INT

[group:h]
parent = g

[job:at-root]
command = sh @TMP@/trap.sh
env = OUT=@TMP@/got-at-root

[job:in-g]
group = g
command = sh @TMP@/trap.sh
env = OUT=@TMP@/got-in-g

[job:in-h]
group = h
command = sh @TMP@/trap.sh
env = OUT=@TMP@/got-in-h

[job:own]
group = h
signal = USR1
command = sh @TMP@/trap.sh
env = OUT=@TMP@/got-own

[job:ladder]
group = g
term-seq = HUP,500ms,TERM
command = sh @TMP@/trap.sh
env = OUT=@TMP@/got-ladder
env = KEEP=HUP
EOF
	cr_start -f "$TMP/inherit.ini" --report "$TMP/r.json"
	local n
	for n in at-root in-g in-h own ladder; do
		wait_for test -e "$TMP/got-$n.ready"
	done
	kill -TERM "$CR_PID"
	cr_wait
	expect_status 143
	got_is "$TMP/got-at-root" got-USR2
	got_is "$TMP/got-in-g" got-INT
	got_is "$TMP/got-in-h" got-INT
	got_is "$TMP/got-own" got-USR1
	got_is "$TMP/got-ladder" "got-HUP
got-TERM"
	sent_is at-root USR2
	sent_is in-g INT
	sent_is in-h INT
	sent_is own USR1
	sent_is ladder HUP TERM
	for n in at-root in-g in-h own ladder; do
		job_is "$n" cancelled signal:TERM
	done
	# None of them needed KILL, so the 30 s grace never ran out.
	[ "$CR_MS" -lt 20000 ]
	no_survivors
}

@test "--plan: inherited stop sequences, modes, deadlines; runs nothing" {
	jobfile plan <<'EOF'
[cancelrun]
grace = 7s
timeout = 10m

[group:tests]
term-seq = INT,2s,TERM
timeout = 30s
mode = race

[job:unit]
group = tests
grace = 3s
cancel-after = 1h
command = touch @TMP@/ran

[job:other]
group = tests
command = touch @TMP@/ran

[job:lint]
cancel-after = 1m
command = touch @TMP@/ran
EOF
	run --separate-stderr "$CANCELRUN" --plan "$TMP/plan.ini"
	echo "$output"
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[ ! -e "$TMP/ran" ]
	local unit other lint tests
	unit=$(grep -E '(^|[^a-z])unit([^a-z]|$)' <<<"$output")
	other=$(grep -E '(^|[^a-z])other([^a-z]|$)' <<<"$output")
	lint=$(grep -E '(^|[^a-z])lint([^a-z]|$)' <<<"$output")
	tests=$(grep -E '(^|[^a-z])tests([^a-z]|$)' <<<"$output" |
	    grep -v -e unit -e other)
	[ "$(wc -l <<<"$unit")" -eq 1 ]
	[ "$(wc -l <<<"$tests")" -eq 1 ]
	# The man page's example: own grace after the group's ladder.
	[[ "$unit" == *INT,2s,TERM,3s,KILL* ]]
	[[ "$other" == *INT,2s,TERM,7s,KILL* ]]
	[[ "$lint" == *TERM,7s,KILL* ]]
	# cancel-after = 1h in a group with timeout = 30s: 30s.
	[[ "$unit" == *30s* ]]
	[[ "$unit" != *1h* ]]
	[[ "$lint" == *1m* ]]
	[[ "$tests" == *race* ]]
	[[ "$tests" == *30s* ]]
	[[ "$output" == *fail-fast* ]]
	sleep 0.2
	[ ! -e "$TMP/ran" ]
}

@test "--plan FILE NAME...: those jobs and groups, what is above and below them" {
	jobfile sel <<'EOF'
[group:tests]
timeout = 30s

[job:unit]
group = tests
command = touch @TMP@/ran

[job:e2e]
group = tests
command = touch @TMP@/ran

[job:lint]
command = touch @TMP@/ran

[job:docs]
after = lint
command = touch @TMP@/ran
EOF
	run --separate-stderr "$CANCELRUN" --plan "$TMP/sel.ini" unit
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | awk '{ print $1 }' | paste -sd ' ')" = \
	    "cancelrun group:tests job:unit order: 1." ]
	[[ "$output" == *"  1. unit"* ]]
	# A group brings what is below it; two names, both.
	run --separate-stderr "$CANCELRUN" --plan "$TMP/sel.ini" tests docs
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | grep -v '^ *[0-9]\.' |
	    awk '{ print $1 }' | paste -sd ' ')" = \
	    "cancelrun group:tests job:unit job:e2e job:docs order:" ]
	[[ "$output" == *"  1. unit, e2e"* ]]
	[[ "$output" == *"  2. docs"* ]]
	[[ "$output" != *job:lint* ]]
	# A name the file does not have: one line, 125, nothing printed.
	run --separate-stderr "$CANCELRUN" --plan "$TMP/sel.ini" unit nosuch
	echo "$output / $stderr"
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ "$stderr" = "cancelrun: $TMP/sel.ini: no job or group named 'nosuch'" ]
	# Names belong to --plan only.
	run --separate-stderr "$CANCELRUN" --check "$TMP/sel.ini" unit
	[ "$status" -eq 125 ]
	[ ! -e "$TMP/ran" ]
}

@test "command is split like ExecStart=: quotes, escapes, no shell" {
	jobfile split <<'EOF'
[job:split]
command = printf '%s|' "a b" c
EOF
	crf split
	expect_status 0
	[ "$(cat "$TMP/out")" = "a b|c|" ]

	jobfile split <<'EOF'
[job:split]
command = printf '%s|' $HOME ~ * "$HOME" 'x>y' a\ b "a"'b'c ''
    "t\tu" "back\\slash" "q\"q" it\'s end
EOF
	crf split
	expect_status 0
	local want
	want=$(printf '%s|' '$HOME' '~' '*' '$HOME' 'x>y' 'a b' abc '' \
	    $'t\tu' 'back\slash' 'q"q' "it's" end)
	[ "$(cat "$TMP/out")" = "$want" ]

	# Continuation lines are joined with one space; \; is a plain ';'.
	jobfile split <<'EOF'
[job:split]
command =
    sh -c "echo one \;
        echo two"
EOF
	crf split
	expect_status 0
	[ "$(cat "$TMP/out")" = "one
two" ]
	no_survivors
}

@test "cwd, env (repeatable, replacing) and success-codes" {
	mkdir "$TMP/sub"
	jobfile keys <<'EOF'
[cancelrun]
mode = supervise

[job:w]
cwd = @TMP@/sub
env = FOO=a b=c
env = EMPTY=
env = HOME=/nowhere
success-codes = 0, 3
command = sh -c 'pwd > @TMP@/pwd;
    printf "%s|%s|%s" "$FOO" "${EMPTY-unset}" "$HOME" > @TMP@/env;
    exit 3'

[job:v]
command = sh -c 'exit 3'
EOF
	crf keys
	expect_status 1
	[ "$(cat "$TMP/pwd")" = "$TMP/sub" ]
	[ "$(cat "$TMP/env")" = "a b=c||/nowhere" ]
	job_is w succeeded
	job_is v failed
	rcheck 'j["w"]["exit"] == 3' 'j["v"]["exit"] == 3'
	no_survivors
}

@test "max-parallel bounds how many jobs run at once" {
	# Each job logs its start, waits (up to 5 s) until two have started,
	# stays a moment and logs its end.
	cat >"$TMP/par.sh" <<'EOF'
echo + >> "$1"
i=0
until [ "$(grep -c + "$1")" -ge 2 ] || [ $i -ge 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
sleep 0.5
echo - >> "$1"
EOF
	jobfile par <<'EOF'
[cancelrun]
max-parallel = 2

[job:p1]
command = sh @TMP@/par.sh @TMP@/log

[job:p2]
command = sh @TMP@/par.sh @TMP@/log

[job:p3]
command = sh @TMP@/par.sh @TMP@/log

[job:p4]
command = sh @TMP@/par.sh @TMP@/log
EOF
	crf par
	expect_status 0
	cat "$TMP/log"
	local max
	max=$(awk '$1 == "+" { n++ } $1 == "-" { n-- } n > m { m = n }
	    END { print m }' "$TMP/log")
	[ "$(grep -c -e + "$TMP/log")" -eq 4 ]
	[ "$(grep -c -e - "$TMP/log")" -eq 4 ]
	[ "$max" -eq 2 ]
	no_survivors
}

# --- deadlines and modes ----------------------------------------------------

@test "a group's timeout bounds a job's longer cancel-after: timeout, 124" {
	jobfile deadline <<'EOF'
[cancelrun]
grace = 5s

[group:slowgroup]
timeout = 1s

[job:long]
group = slowgroup
cancel-after = 1h
command = sleep 1000
EOF
	crf deadline
	expect_status 124
	job_is long cancelled timeout:slowgroup
	sent_is long TERM
	rcheck 'r["status"] == 124' 'r["cause"].startswith("timeout")' \
	    '"slowgroup" in r["cause"]' \
	    '0.5 < j["long"]["duration_s"] < 10'
	[ "$CR_MS" -lt 10000 ]
	no_survivors
}

@test "a job's own cancel-after in a fail-fast root cancels the rest: 124" {
	jobfile own <<'EOF'
[cancelrun]
term-seq = INT,5s,TERM

[job:hang]
cancel-after = 1s
command = sleep 1000

[job:other]
command = sleep 1000
EOF
	crf own
	expect_status 124
	job_is hang cancelled timeout:hang
	job_is other cancelled sibling-failed:hang
	# The root's ladder: sleep dies of its first step.
	sent_is hang INT
	sent_is other INT
	rcheck 'r["status"] == 124'
	[ "$CR_MS" -lt 10000 ]
	no_survivors
}

@test "fail-fast: a failure cancels the siblings (sibling-failed:NAME), 1" {
	jobfile ff <<'EOF'
[job:slow1]
command = sleep 1000

[job:bad]
command = sh -c 'sleep 0.3; exit 3'

[job:slow2]
command = sh -c 'sleep 1000'
EOF
	crf ff
	expect_status 1
	job_is bad failed
	job_is slow1 cancelled sibling-failed:bad
	job_is slow2 cancelled sibling-failed:bad
	rcheck 'j["bad"]["exit"] == 3' 'r["status"] == 1'
	[ "$CR_MS" -lt 10000 ]
	no_survivors
}

@test "supervise: failures are recorded, the siblings run to the end, exit 1" {
	jobfile sup <<'EOF'
[cancelrun]
mode = supervise

[job:bad]
command = sh -c 'exit 2'

[job:good1]
command = sh -c 'sleep 1; touch @TMP@/good1'

[job:good2]
command = sh -c 'sleep 1; touch @TMP@/good2'
EOF
	crf sup
	expect_status 1
	[ -e "$TMP/good1" ]
	[ -e "$TMP/good2" ]
	job_is bad failed
	job_is good1 succeeded
	job_is good2 succeeded
	sent_is good1
	no_survivors
}

@test "race: the first success cancels the others (race-won:NAME), exit 0" {
	jobfile race <<'EOF'
[group:mirrors]
mode = race

[job:winner]
group = mirrors
command = sh -c 'sleep 0.5; exit 0'

[job:loser]
group = mirrors
command = sleep 1000

[job:down]
group = mirrors
command = sh -c 'exit 5'

[job:bystander]
command = sh -c 'sleep 1; touch @TMP@/bystander'
EOF
	crf race
	expect_status 0
	job_is winner succeeded
	job_is loser cancelled race-won:winner
	job_is down failed
	# The race is the group's business: the root's other job runs on.
	job_is bystander succeeded
	[ -e "$TMP/bystander" ]
	rcheck 'r["status"] == 0'
	no_survivors
}

@test "race where every job fails: exit 1" {
	jobfile race <<'EOF'
[cancelrun]
mode = race

[job:a]
command = sh -c 'exit 1'

[job:b]
command = sh -c 'sleep 0.3; exit 2'
EOF
	crf race
	expect_status 1
	job_is a failed
	job_is b failed
	no_survivors
}

@test "nested fail-fast groups: a failure cancels siblings, propagates up" {
	jobfile nest <<'EOF'
[group:outer]

[group:inner]
parent = outer

[job:x]
group = inner
command = sh -c 'sleep 0.3; exit 4'

[job:y]
group = inner
command = sleep 1000

[job:z]
group = outer
command = sleep 1000

[job:w]
command = sleep 1000
EOF
	crf nest
	expect_status 1
	job_is x failed
	job_is y cancelled sibling-failed:x
	job_is z cancelled sibling-failed:x
	job_is w cancelled sibling-failed:x
	[ "$CR_MS" -lt 10000 ]
	no_survivors
}

@test "a supervise parent runs on when a fail-fast child group fails" {
	jobfile nest <<'EOF'
[group:outer]
mode = supervise

[group:inner]
parent = outer
mode = fail-fast

[group:inherits]
parent = outer

[job:x]
group = inner
command = sh -c 'sleep 0.3; exit 4'

[job:y]
group = inner
command = sleep 1000

[job:z]
group = outer
command = sh -c 'sleep 1; touch @TMP@/z'

[job:p]
group = inherits
command = sh -c 'exit 2'

[job:q]
group = inherits
command = sh -c 'sleep 1; touch @TMP@/q'
EOF
	crf nest
	expect_status 1
	job_is x failed
	job_is y cancelled sibling-failed:x
	job_is z succeeded
	job_is p failed
	job_is q succeeded
	[ -e "$TMP/z" ]
	[ -e "$TMP/q" ]
	no_survivors
}

# --- stopping ---------------------------------------------------------------

@test "a job's stop reaches its whole tree: grandchildren ignoring TERM" {
	jobfile tree <<'EOF'
[cancelrun]
grace = 30s

[group:stoppers]
grace = 1s

[job:tree]
group = stoppers
command = sh -c '
    sh -c "trap \"\" TERM; : > @TMP@/gc1; exec sleep 1000" &
    setsid sh -c "trap \"\" TERM; : > @TMP@/gc2; exec sleep 1000" &
    wait'

[job:trigger]
command = sh -c 'until [ -e @TMP@/gc1 ] && [ -e @TMP@/gc2 ]; do
    sleep 0.05; done; exit 1'
EOF
	crf tree
	expect_status 1
	job_is trigger failed
	job_is tree cancelled sibling-failed:trigger
	sent_is tree TERM KILL
	# The group's 1 s grace, not the root's 30 s.
	[ "$CR_MS" -lt 20000 ]
	no_survivors
}

# cancel_by SIG STATUS: SIG sent to cancelrun while its jobs run cancels
# the root with the cause signal:SIG; exit STATUS.
cancel_by() {
	local sig=$1 want=$2
	jobfile sig <<'EOF'
[cancelrun]
timeout = 60s

[job:a]
command = sh -c 'touch "$R"; exec sleep 1000'
env = R=@TMP@/ready-a

[group:g]

[job:b]
group = g
command = sh -c 'touch "$R"; exec sleep 1000'
env = R=@TMP@/ready-b
EOF
	cr_start -f "$TMP/sig.ini" --report "$TMP/r.json"
	wait_for test -e "$TMP/ready-a"
	wait_for test -e "$TMP/ready-b"
	kill -"$sig" "$CR_PID"
	cr_wait
	expect_status "$want"
	job_is a cancelled "signal:$sig"
	job_is b cancelled "signal:$sig"
	sent_is a TERM
	sent_is b TERM
	rcheck "r['status'] == $want" "r['cause'] == 'signal:$sig'"
	no_survivors
}

@test "INT to cancelrun cancels the root: signal:INT, exit 130" {
	cancel_by INT 130
}

@test "TERM to cancelrun cancels the root: signal:TERM, exit 143" {
	cancel_by TERM 143
}

@test "HUP to cancelrun cancels the root: signal:HUP, exit 129" {
	cancel_by HUP 129
}

@test "a second TERM skips the 60 s grace of jobs that ignore TERM" {
	jobfile second <<'EOF'
[cancelrun]
grace = 60s

[job:a]
command = sh -c 'trap "" TERM; : > @TMP@/ready-a; exec sleep 1000'

[job:b]
command = sh -c 'trap "" TERM; : > @TMP@/ready-b; exec sleep 1000'
EOF
	cr_start -f "$TMP/second.ini" --report "$TMP/r.json"
	wait_for test -e "$TMP/ready-a"
	wait_for test -e "$TMP/ready-b"
	local t0
	t0=$(now_ms)
	kill -TERM "$CR_PID"
	# Two signals sent at once may arrive as one: let the first act.
	sleep 1
	kill -0 "$CR_PID"
	[ -n "$(marked_pids | grep -vx "$CR_PID")" ]
	kill -TERM "$CR_PID"
	cr_wait
	[ $(($(now_ms) - t0)) -lt 15000 ]
	expect_status 143
	job_is a cancelled signal:TERM
	job_is b cancelled signal:TERM
	sent_is a TERM KILL
	sent_is b TERM KILL
	rcheck 'j["a"]["signal"] == "KILL"'
	no_survivors
}

# --- skipped jobs -----------------------------------------------------------

@test "jobs waiting for a slot when fail-fast cancels the tree: skipped" {
	jobfile skip <<'EOF'
[cancelrun]
max-parallel = 1

[job:first]
command = sh -c 'exit 3'

[job:second]
command = touch @TMP@/second

[group:g]

[job:third]
group = g
command = touch @TMP@/third
EOF
	crf skip
	expect_status 1
	[ ! -e "$TMP/second" ]
	[ ! -e "$TMP/third" ]
	job_is first failed
	job_is second skipped sibling-failed:first
	job_is third skipped sibling-failed:first
	rcheck 'j["second"]["started"] is None' 'j["second"]["exit"] is None'
	no_survivors
}

@test "jobs still waiting when the root's timeout expires are skipped: 124" {
	jobfile skip <<'EOF'
[cancelrun]
max-parallel = 1
timeout = 1s
grace = 5s

[job:first]
command = sleep 1000

[job:second]
command = touch @TMP@/second
EOF
	crf skip
	expect_status 124
	[ ! -e "$TMP/second" ]
	job_is first cancelled timeout
	job_is second skipped timeout
	rcheck 'r["cause"].startswith("timeout")'
	[ "$CR_MS" -lt 10000 ]
	no_survivors
}

# --- output -----------------------------------------------------------------

@test "two jobs printing 2000 lines of 300 bytes at once: whole lines" {
	# a writes through awk's 4 KiB buffer (lines split across writes),
	# b one printf per line.
	cat >"$TMP/gen.sh" <<'EOF'
pad=$(awk 'BEGIN { while (length(p) < 293) p = p "x"; print p }')
if [ "$2" = awk ]; then
	awk -v n="$1" -v p="$pad" 'BEGIN {
		for (i = 0; i < 2000; i++)
			printf "%s-%04d-%s\n", n, i, p
	}'
else
	i=0
	while [ $i -lt 2000 ]; do
		printf '%s-%04d-%s\n' "$1" $i "$pad"
		i=$((i + 1))
	done
fi
EOF
	jobfile lines <<'EOF'
[job:a]
command = sh @TMP@/gen.sh a awk

[job:b]
command = sh @TMP@/gen.sh b printf
EOF
	crf lines -q
	expect_status 0
	"$CR_PYTHON" - "$TMP/out" <<'EOF'
import re, sys
data = open(sys.argv[1], "rb").read()
assert data.endswith(b"\n"), "output does not end with a newline"
lines = data[:-1].split(b"\n")
want = {b"a": 0, b"b": 0}
pat = re.compile(rb"\[([ab])\] ([ab])-(\d{4})-(x*)")
for k, line in enumerate(lines):
    m = pat.fullmatch(line)
    if (m is None or m.group(1) != m.group(2) or len(m.group(4)) != 293 or
            int(m.group(3)) != want[m.group(1)]):
        sys.exit("line %d is not whole: %r" % (k + 1, line[:400]))
    want[m.group(1)] += 1
if want != {b"a": 2000, b"b": 2000}:
    sys.exit("lines per job: %r" % want)
EOF
	no_survivors
}

@test "a last line without newline is terminated; stderr is prefixed too" {
	jobfile tail <<'EOF'
[job:a]
command = printf 'one\ntwo'

[job:b]
command = printf three

[job:c]
command = sh -c 'echo err-line >&2'
EOF
	crf tail -q
	expect_status 0
	[ "$(tail -c 1 "$TMP/out" | od -An -c | tr -d ' ')" = '\n' ]
	[ "$(sort "$TMP/out")" = "[a] one
[a] two
[b] three" ]
	# -q leaves the jobs' own output alone.
	[ "$(cat "$TMP/err")" = "[c] err-line" ]
	no_survivors
}

@test "--output=raw passes bytes through untouched" {
	jobfile raw <<'EOF'
[job:a]
command = printf 'alpha\n'

[job:b]
command = sh -c 'echo beta'
EOF
	crf raw -q --output=raw
	expect_status 0
	[ "$(sort "$TMP/out")" = "alpha
beta" ]
	jobfile raw <<'EOF'
[job:a]
command = printf 'x\n[y] \tz'

[job:b]
command = true
EOF
	crf raw -q --output=raw
	expect_status 0
	printf 'x\n[y] \tz' | cmp - "$TMP/out"
	no_survivors
}

@test "one job: no prefix by default; --output=prefix adds it" {
	jobfile one <<'EOF'
[job:solo]
command = printf 'x\ny'
EOF
	crf one -q
	expect_status 0
	printf 'x\ny' | cmp - "$TMP/out"
	crf one -q --output=prefix
	expect_status 0
	printf '[solo] x\n[solo] y\n' | cmp - "$TMP/out"
	no_survivors
}

# --- summary, report, exit status -------------------------------------------

# mixed: a file whose run ends with one job of each state: ok succeeds,
# bad fails by itself, slow is cancelled (sibling-failed:bad) and later,
# waiting for a free slot, is skipped.
mixed() {
	jobfile mixed <<'EOF'
[cancelrun]
max-parallel = 2
grace = 5s

[job:ok]
command = sh -c 'exit 0'

[group:grp]

[job:slow]
group = grp
command = sleep 1000

[job:bad]
command = sh -c 'sleep 0.5; exit 3'

[job:later]
command = touch @TMP@/later
EOF
}

@test "--report: a JSON report with typed fields for each job state" {
	mixed
	crf mixed
	expect_status 1
	[ ! -e "$TMP/later" ]
	job_is ok succeeded
	job_is bad failed
	job_is slow cancelled sibling-failed:bad
	job_is later skipped sibling-failed:bad
	"$CR_PYTHON" - "$TMP/r.json" <<'EOF'
import json, re, sys, time
from datetime import datetime
r = json.load(open(sys.argv[1]))
assert r["status"] == 1, r["status"]
assert isinstance(r["cause"], str) and "bad" in r["cause"], r["cause"]
assert sorted(x["name"] for x in r["jobs"]) == ["bad", "later", "ok", "slow"]
j = {x["name"]: x for x in r["jobs"]}
keys = {"name", "group", "state", "cause", "exit", "restarts", "signal",
        "signals_sent", "started", "ended", "duration_s"}
rfc3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")

def when(s):
    assert isinstance(s, str) and rfc3339.fullmatch(s), s
    t = datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    assert abs(t - time.time()) < 300, s
    return t

for name, x in j.items():
    assert keys <= set(x), (name, sorted(x))
    assert isinstance(x["signals_sent"], list), x
for name in ("ok", "slow", "bad"):
    x = j[name]
    t0, t1 = when(x["started"]), when(x["ended"])
    assert t0 <= t1, x
    d = x["duration_s"]
    assert isinstance(d, (int, float)) and 0 <= d < 60, x
    assert abs(d - (t1 - t0)) < 0.5, x
assert j["slow"]["group"] == "grp" and j["ok"]["group"] is None

x = j["ok"]
assert (x["exit"], x["signal"], x["signals_sent"]) == (0, None, []), x
assert type(x["exit"]) is int
x = j["bad"]
assert (x["exit"], x["signal"], x["signals_sent"]) == (3, None, []), x
assert x["cause"] is None and x["duration_s"] >= 0.3, x
x = j["slow"]
assert (x["exit"], x["signal"], x["signals_sent"]) == \
    (None, "TERM", ["TERM"]), x
assert x["duration_s"] >= 0.3, x
x = j["later"]
assert (x["exit"], x["signal"], x["signals_sent"]) == (None, None, []), x
assert x["started"] is None and x["ended"] is None, x
assert x["duration_s"] in (None, 0), x
EOF
	no_survivors
}

@test "a summary table on stderr at the end; -q suppresses it" {
	mixed
	crf mixed
	expect_status 1
	local err
	err=$(cat "$TMP/err")
	grep -Eqi '^ *job +state +cause +exit' <<<"$err"
	grep -Eq '^ok +succeeded .*0' <<<"$err"
	grep -Eq '^bad +failed .*3' <<<"$err"
	grep -Eq '^slow +cancelled +sibling-failed:bad .*TERM.* [0-9.]+ ?s' \
	    <<<"$err"
	grep -Eq '^later +skipped +sibling-failed:bad' <<<"$err"
	# The last line counts the states.
	tail -n 1 <<<"$err" | grep -Eq '^4 jobs: 1 succeeded, 1 failed, 1 cancelled, 1 skipped in [0-9.]+s$'
	# Nothing of it on stdout.
	[ ! -s "$TMP/out" ]
	no_survivors

	crf mixed -q
	expect_status 1
	[ ! -s "$TMP/err" ]
	no_survivors
}

@test "--exit-code=first-failure exits with the failed job's own status" {
	jobfile seven <<'EOF'
[job:seven]
command = sh -c 'sleep 0.3; exit 7'

[job:slow]
command = sleep 1000
EOF
	crf seven --exit-code=first-failure
	expect_status 7
	job_is seven failed
	job_is slow cancelled sibling-failed:seven
	no_survivors
	crf seven --exit-code=fold
	expect_status 1
	no_survivors
}

# --- --check and --plan -----------------------------------------------------

@test "--check: a valid file prints ok, exits 0 and runs nothing" {
	jobfile good <<'EOF'
[cancelrun]
timeout = 1m

[group:g]
mode = race

[job:a]
group = g
command = touch @TMP@/ran
EOF
	run --separate-stderr "$CANCELRUN" --check "$TMP/good.ini"
	echo "$output"
	echo "stderr: $stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *ok* ]]
	[ -z "$stderr" ]
	sleep 0.2
	[ ! -e "$TMP/ran" ]
}

@test "--check: an invalid file exits 125 with FILE:LINE: message" {
	jobfile bad <<'EOF'
[job:a]
command = touch @TMP@/ran
cancel-after = soon
EOF
	run --separate-stderr "$CANCELRUN" --check "$TMP/bad.ini"
	echo "$output"
	echo "stderr: $stderr"
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "$TMP/bad.ini:3: "* ]]
	[ ! -e "$TMP/ran" ]
}

# --- bad files --------------------------------------------------------------

# refused LINE REGEX: $TMP/bad.ini is refused by -f and by --check, with
# exit 125, one stderr line "$TMP/bad.ini:LINE: message" (LINE empty: no
# line number) whose message matches REGEX, and nothing started.
refused() {
	local want_line=$1 regex=$2 f="$TMP/bad.ini" opt line
	for opt in -f --check; do
		# A refused file starts nothing, so this cannot hang.
		status=0
		env CR_TEST_MARK="$MARK" "$CANCELRUN" "$opt" "$f" \
		    >"$TMP/out" 2>"$TMP/err" </dev/null || status=$?
		show_run
		expect_status 125
		[ ! -s "$TMP/out" ]
		[ "$(wc -l <"$TMP/err")" -eq 1 ]
		line=$(cat "$TMP/err")
		if [ -n "$want_line" ]; then
			[[ "$line" == "$f:$want_line: "* ]]
		else
			[[ "$line" == "$f: "* ]]
			[[ ! "$line" =~ ^"$f":[0-9] ]]
		fi
		[[ "$line" =~ $regex ]]
		sleep 0.1
		[ ! -e "$TMP/ran" ]
	done
	no_survivors
}

@test "bad file: unknown section kind" {
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran

[task:x]
command = true
EOF
	refused 4 'task'
}

@test "bad file: unknown key" {
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran

[job:b]
command = true
cancel_after = 1s
EOF
	refused 6 'cancel_after'
}

@test "bad file: duplicate names" {
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran

[job:dup]
command = true

[group:dup]
EOF
	refused 7 'dup'
}

@test "bad file: duplicate keys" {
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran
grace = 1s
grace = 2s
EOF
	refused 4 'grace'
}

@test "bad file: a job without command" {
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran

[job:nocmd]
cancel-after = 1s
EOF
	refused 4 'nocmd'
}

@test "bad file: bad duration" {
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran

[cancelrun]
timeout = 5x
EOF
	refused 5 '5x'
}

@test "bad file: bad signal" {
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran
signal = SIGNOPE
EOF
	refused 3 'NOPE'
}

@test "bad file: unbalanced quotes" {
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran

[job:q]
command = sh -c 'echo hi
EOF
	refused 5 '[Qq]uote|unbalanced'
}

@test "bad file: a group that does not exist" {
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran
group = nosuch
EOF
	refused 3 'nosuch'
}

@test "bad file: a cycle of parents" {
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran
group = ga

[group:ga]
parent = gb

[group:gb]
parent = ga
EOF
	# Either parent line names the cycle.
	local f="$TMP/bad.ini"
	cr -f "$f"
	expect_status 125
	[[ "$(cat "$TMP/err")" == "$f:"[68]": "* ]]
	refused "$(sed -n 's|^[^:]*\.ini:\([0-9]*\):.*|\1|p' "$TMP/err")" \
	    'cycle'
}

@test "bad file: an empty file (a message without a line number)" {
	: >"$TMP/bad.ini"
	refused "" 'empty'
}

@test "bad file: a line longer than 199 bytes says how to split it" {
	{
		printf '[job:toucher]\ncommand = touch %s/ran\n\n[job:long]\n' \
		    "$TMP"
		printf "command = sh -c 'echo %s'\n" "$(printf 'x%.0s' \
		    $(seq 1 200))"
	} >"$TMP/bad.ini"
	refused 5 '199.*(indent|continu)|(indent|continu).*199'
}

@test "bad file: ' ;' in a value" {
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran

[cancelrun]
mode = supervise ; keep going
EOF
	refused 5 ';'
	jobfile bad <<'EOF'
[job:toucher]
command = touch @TMP@/ran

[job:semi]
command = sh -c 'echo a ; echo b'
EOF
	refused 5 ';'
}

@test "a missing file: 125, the message names the file" {
	cr -f "$TMP/nosuch.ini"
	expect_status 125
	[ "$(wc -l <"$TMP/err")" -eq 1 ]
	grep -qF "$TMP/nosuch.ini" "$TMP/err"
	cr --check "$TMP/nosuch.ini"
	expect_status 125
	grep -qF "$TMP/nosuch.ini" "$TMP/err"
}

@test "--jobs combined with a command: 125, nothing runs" {
	jobfile ok <<'EOF'
[job:a]
command = touch @TMP@/ran
EOF
	cr --jobs "$TMP/ok.ini" touch "$TMP/ran2"
	expect_status 125
	[ "$(wc -l <"$TMP/err")" -eq 1 ]
	sleep 0.2
	[ ! -e "$TMP/ran" ]
	[ ! -e "$TMP/ran2" ]
	no_survivors
}

# --- the examples -----------------------------------------------------------

# example NAME: run $TOP_SRCDIR/examples/NAME.ini (from $TMP) to exit 0.
example() {
	cd "$TMP"
	cr -f "$TOP_SRCDIR/examples/$1.ini" --report "$TMP/r.json"
	expect_status 0
	no_survivors
}

@test "examples/ci.ini runs to exit 0" {
	example ci
	local n
	for n in lint build shard-1 shard-2 shard-3; do
		job_is "$n" succeeded
	done
	grep -q '^\[shard-3\] shard 3/3: 40 tests passed' "$TMP/out"
}

@test "examples/server-tests.ini runs to exit 0" {
	example server-tests
	job_is tests succeeded
	job_is server cancelled main-ended:tests
	sent_is server INT
	# The tests started only once the server said it was listening.
	[ "$(grep -o '^\[[a-z]*\]' "$TMP/out" | paste -sd' ')" = \
	    "[server] [tests]" ]
}

@test "examples/server-tests.ini: failing tests exit 1, not 124" {
	cd "$TMP"
	TESTS_FAIL=1 cr -f "$TOP_SRCDIR/examples/server-tests.ini" \
	    --report "$TMP/r.json"
	expect_status 1
	job_is tests failed
	job_is server cancelled main-ended:tests
	no_survivors
}

@test "examples/server-tests.ini: a server never ready, tests skipped" {
	cd "$TMP"
	NO_SERVER=1 cr -f "$TOP_SRCDIR/examples/server-tests.ini" \
	    --report "$TMP/r.json"
	expect_status 1
	job_is server failed not-ready
	job_is tests skipped dependency:server
	no_survivors
}

@test "examples/pipeline.ini runs in order to exit 0, no cleanup" {
	example pipeline
	local n
	for n in lint build unit integration; do
		job_is "$n" succeeded
	done
	job_is collect-logs skipped
	# Each step's line comes after the one it waits for.
	[ "$(grep -o '^\[[a-z-]*\]' "$TMP/out" | paste -sd' ')" = \
	    "[lint] [build] [integration] [unit]" ]
}

@test "examples/pipeline.ini with a failing step: 1, cleanup told why" {
	cd "$TMP"
	FAIL=1 cr -f "$TOP_SRCDIR/examples/pipeline.ini" --report "$TMP/r.json"
	expect_status 1
	job_is integration failed
	job_is unit cancelled sibling-failed:integration
	job_is collect-logs succeeded
	grep -q '^\[collect-logs\] collect-logs: the tests ended with sibling-failed:integration (status 1)$' "$TMP/out"
	no_survivors
}

@test "examples/race.ini runs to exit 0" {
	example race
	job_is mirror-b succeeded
	job_is mirror-a cancelled race-won:mirror-b
	job_is mirror-c failed
}

# --- scale ------------------------------------------------------------------

@test "1000 jobs all start; the root's timeout cancels them all: 124" {
	local i max=0 n st
	{
		printf '[cancelrun]\ntimeout = 10s\ngrace = 1s\n'
		for ((i = 0; i < 1000; i++)); do
			printf '\n[job:j%04d]\ncommand = sleep 1000\n' "$i"
			printf 'env = CR_TEST_MARK=%s\n' "$MARK"
		done
	} >"$TMP/many.ini"
	# Here cancelrun itself is not marked: only the jobs are counted.
	CR_T0=$(now_ms)
	start_bg "$CANCELRUN" -q -f "$TMP/many.ini" --report "$TMP/r.json"
	CR_PID=$BG_PID
	for ((i = 0; i < 200; i++)); do
		st=$(awk '{ print $3 }' "/proc/$CR_PID/stat" 2>/dev/null) ||
		    true
		[ -n "$st" ] && [ "$st" != Z ] || break
		n=$(count_marked)
		[ "$n" -le "$max" ] || max=$n
		[ "$max" -lt 1000 ] || break
		sleep 0.3
	done
	echo "most marked processes seen: $max"
	[ "$max" -eq 1000 ]
	wait_bg
	CR_MS=$(($(now_ms) - CR_T0))
	show_run >/dev/null
	echo "status $status after $CR_MS ms"
	expect_status 124
	rcheck 'len(r["jobs"]) == 1000' \
	    'all(x["state"] == "cancelled" for x in r["jobs"])' \
	    'all(x["cause"] == "timeout" for x in r["jobs"])' \
	    'all(x["started"] is not None for x in r["jobs"])'
	no_survivors
}
