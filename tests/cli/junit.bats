#!/usr/bin/env bats
#
# junit.bats - issue 12, item 3: --junit FILE, a JUnit XML report.
#
# Each test runs cancelrun with --junit "$TMP/j.xml", parses the file with
# Python's xml.etree (which refuses XML that is not well-formed) and checks
# the suite's counts and attributes, each test case's verdict element and
# type, and its <system-out>: the last lines of the job's prefixed output,
# escaped so that whatever the job printed cannot break the file.  Jobs
# carry MARK in their environment (CR_TEST_MARK), so nothing they leave
# behind escapes no_survivors.

load helpers
bats_require_minimum_version 1.5.0

# Python reads what cancelrun wrote (find_python: the interpreter, once).
setup_file() {
	find_python
}

# cr ARGS...: run cancelrun with ARGS, marked, to the end (status, output
# in $TMP/out and $TMP/err), and show what it did for a failing test.
cr() {
	cr_start "$@"
	cr_wait
	echo "--- junit:"
	head -c 6000 "$TMP/j.xml" 2>/dev/null || true
	echo
}

# jcheck EXPR...: every Python expression is true of $TMP/j.xml, with s
# the one <testsuite>, top the <testsuites> around it, c its test cases by
# name, out(NAME) the text of a test case's <system-out> (None if it has
# none), and A(E, NAME) an attribute.
jcheck() {
	"$CR_PYTHON" - "$TMP/j.xml" "$@" <<'EOF'
import sys, xml.etree.ElementTree as ET
top = ET.parse(sys.argv[1]).getroot()
suites = top.findall("testsuite")
assert top.tag == "testsuites" and len(suites) == 1, "one testsuite"
s = suites[0]
c = {t.get("name"): t for t in s.findall("testcase")}
def out(name):
    e = c[name].find("system-out")
    return None if e is None else (e.text or "")
def A(e, name):
    return e.get(name)
bad = [e for e in sys.argv[2:] if not eval(e)]
for e in bad:
    print("junit check failed: " + e, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
}

@test "--junit: pass, fail, timeout and skipped, counted and typed" {
	jobfile run <<'EOF'
[cancelrun]
mode = supervise

[group:tests]
[group:unit]
parent = tests

[job:pass]
group = unit
command = sh -c 'echo hello; echo to-stderr >&2; exit 0'

[job:fail]
command = sh -c 'echo failing; exit 3'

[job:slow]
group = tests
command = sh -c 'echo slow started; exec sleep 30'
cancel-after = 1s

[job:later]
after = fail
command = touch @TMP@/ran
EOF
	cr -f "$TMP/run.ini" --junit "$TMP/j.xml"
	[ "$status" -eq 1 ]
	[ ! -e "$TMP/ran" ]
	jcheck 'A(s, "name") == "run.ini"' \
	    'A(s, "tests") == "4"' 'A(s, "failures") == "1"' \
	    'A(s, "errors") == "1"' 'A(s, "skipped") == "1"' \
	    'all(A(top, k) == A(s, k) for k in
	        ("tests", "failures", "errors", "skipped", "time"))' \
	    'list(c) == ["pass", "fail", "slow", "later"]' \
	    'abs(float(A(s, "time")) - sum(float(A(t, "time"))
	        for t in c.values())) < 0.0015' \
	    '(s.find("properties/property[@name=\"cancelrun.status\"]")
	        .get("value") == "1")' \
	    'A(c["pass"], "classname") == "tests.unit"' \
	    'A(c["fail"], "classname") == "cancelrun"' \
	    'A(c["slow"], "classname") == "tests"' \
	    'len(list(c["pass"])) == 1 and c["pass"].find("system-out") is not None' \
	    'c["fail"].find("failure").get("message") == "exit status 3"' \
	    'c["fail"].find("error") is None' \
	    'c["slow"].find("error").get("type") == "timeout:slow"' \
	    '"TERM" in c["slow"].find("error").get("message")' \
	    'c["slow"].find("failure") is None' \
	    '0.5 < float(A(c["slow"], "time")) < 10' \
	    'c["later"].find("skipped").get("message") == "dependency:fail"' \
	    'float(A(c["later"], "time")) == 0' \
	    'out("later") is None' \
	    'sorted(out("pass").split("\n")) == ["", "hello", "to-stderr"]' \
	    'out("fail") == "failing\n"' 'out("slow") == "slow started\n"'
	no_survivors
}

@test "--junit: invalid UTF-8, control characters and ]]> keep the XML whole" {
	# \377 and \300\257 (an overlong "/") are not UTF-8; \001 and ESC are
	# not allowed in XML 1.0; "é" and "€" are good UTF-8 and stay.
	cat >"$TMP/junk.sh" <<'EOF'
printf 'bad \377 byte and \300\257 overlong\n'
printf 'ctl \001\033[31mred\033[0m end\n'
printf 'cdata ]]> and <tag> & "quote"\n'
printf 'caf\303\251 \342\202\254 ok\n'
printf 'cr\rlf\n'
printf 'last without newline'
EOF
	jobfile junk <<'EOF'
[job:junk]
command = sh @TMP@/junk.sh

[job:quiet]
command = true
EOF
	cr -f "$TMP/junk.ini" --junit "$TMP/j.xml"
	[ "$status" -eq 0 ]
	jcheck 'A(s, "tests") == "2"' 'A(s, "failures") == "0"' \
	    'A(s, "errors") == "0"' 'A(s, "skipped") == "0"' \
	    'out("junk").split("\n")[0] == "bad \ufffd byte and \ufffd\ufffd overlong"' \
	    'out("junk").split("\n")[1] == "ctl [31mred[0m end"' \
	    'out("junk").split("\n")[2] == "cdata ]]> and <tag> & \"quote\""' \
	    'out("junk").split("\n")[3] == "caf\u00e9 \u20ac ok"' \
	    '"cr\rlf\n" in out("junk")' \
	    'out("junk").endswith("last without newline\n")' \
	    'out("quiet") is None'
	# The raw bytes: no control character but newline in the file, and
	# "]]>" only as text.
	not grep -qP '[\x00-\x08\x0b\x0c\x0e-\x1f]' "$TMP/j.xml"
	not grep -qF ']]>' "$TMP/j.xml"
	grep -qF ']]&gt;' "$TMP/j.xml"
}

@test "--junit: <system-out> holds the last 100 lines, bounded in size" {
	jobfile many <<'EOF'
[job:many]
command = sh -c 'i=1; while [ $i -le 250 ]; do echo "line $i"; i=$((i + 1)); done'

[job:big]
command = sh -c 'head -c 3000000 /dev/zero | tr "\\0" x; echo; echo tail-line'

[job:long]
command = sh -c 'head -c 20000 /dev/zero | tr "\\0" y; echo; echo after-long'
EOF
	cr -f "$TMP/many.ini" --junit "$TMP/j.xml"
	[ "$status" -eq 0 ]
	jcheck 'out("many").split("\n")[:-1] == ["line %d" % i for i in range(151, 251)]' \
	    'out("big") == "tail-line\n"' \
	    'out("long").split("\n")[-2] == "after-long"' \
	    'out("long").split("\n")[0] == "y" * 20000'
}

@test "--junit with --output=raw: no <system-out>" {
	jobfile raw <<'EOF'
[cancelrun]
mode = supervise

[job:a]
command = echo a-line

[job:b]
command = sh -c 'echo b-line; exit 4'
EOF
	cr -f "$TMP/raw.ini" --output=raw --junit "$TMP/j.xml"
	[ "$status" -eq 1 ]
	grep -qx a-line "$TMP/out"
	jcheck 'A(s, "tests") == "2"' 'A(s, "failures") == "1"' \
	    'out("a") is None and out("b") is None' \
	    'c["b"].find("failure").get("message") == "exit status 4"'
}

@test "--junit, single command: one test case, no <system-out> when raw" {
	cr --junit "$TMP/j.xml" -- sh -c 'echo single-line; exit 2'
	[ "$status" -eq 2 ]
	grep -qx single-line "$TMP/out"
	jcheck 'A(s, "name") == "cancelrun"' 'A(s, "tests") == "1"' \
	    'A(s, "failures") == "1"' 'list(c) == ["sh"]' \
	    'A(c["sh"], "classname") == "cancelrun"' \
	    'c["sh"].find("failure").get("message") == "exit status 2"' \
	    'out("sh") is None'
}

@test "--junit, single command: a timeout is an error" {
	# A single command's output is always raw (--output=prefix too):
	# it has no <system-out>.
	cr --junit "$TMP/j.xml" --output=prefix -t 0.5 -- \
	    sh -c 'echo before-hang; exec sleep 30'
	[ "$status" -eq 124 ]
	grep -qx before-hang "$TMP/out"
	jcheck 'A(s, "tests") == "1"' 'A(s, "errors") == "1"' \
	    'A(s, "failures") == "0"' \
	    'c["sh"].find("error").get("type") == "timeout"' \
	    's.find("properties/property").get("value") == "124"' \
	    'out("sh") is None'
	no_survivors
}

@test "--junit: a race loser is skipped, a server after main-ended passes" {
	jobfile orch <<'EOF'
[cancelrun]
mode = race

[group:svc]
mode = fail-fast

[job:server]
group = svc
command = sleep 30

[job:tests]
group = svc
main = yes
command = sh -c 'sleep 0.3; echo tests-ok'

[job:loser]
command = sleep 30
EOF
	cr -f "$TMP/orch.ini" --junit "$TMP/j.xml"
	[ "$status" -eq 0 ]
	jcheck 'A(s, "tests") == "3"' 'A(s, "errors") == "0"' \
	    'A(s, "failures") == "0"' 'A(s, "skipped") == "1"' \
	    'c["server"].find("*") is None' \
	    'c["loser"].find("skipped").get("message").startswith("race-won:")'
	no_survivors
}

@test "--junit: an unwritable file is refused before anything starts" {
	jobfile touch <<'EOF'
[job:t]
command = touch @TMP@/ran
EOF
	run -125 "$CANCELRUN" -f "$TMP/touch.ini" --junit "$TMP/no/such/dir/j.xml"
	[[ "$output" == *"cannot write JUnit report '$TMP/no/such/dir/j.xml': No such file or directory"* ]]
	[ ! -e "$TMP/ran" ]
	run -125 "$CANCELRUN" --junit "$TMP/no/such/dir/j.xml" -- touch "$TMP/ran"
	[ ! -e "$TMP/ran" ]
}

@test "--junit /dev/full: the failed write is said, and the run exits 125" {
	jobfile ok <<'EOF'
[job:t]
command = true
EOF
	run -125 "$CANCELRUN" -q -f "$TMP/ok.ini" --junit /dev/full
	echo "$output"
	[[ "$output" == *"cannot write JUnit report '/dev/full': No space left on device"* ]]
	# A run that failed keeps its own status.
	run -7 "$CANCELRUN" -q --junit /dev/full -- sh -c 'exit 7'
	[[ "$output" == *"cannot write JUnit report '/dev/full'"* ]]
}
