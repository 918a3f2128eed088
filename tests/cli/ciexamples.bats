#!/usr/bin/env bats
#
# ciexamples.bats - issue 12, item 7: examples/github-actions.yml and
# examples/gitlab-ci.yml.
#
# Each file must be valid YAML (read with Python's yaml module: Debian's
# python3-yaml), hold a step that runs cancelrun with --junit and publish
# that same file even when the step failed; and the step's command, taken
# from the YAML as written, is run here (with the cancelrun under test
# first on PATH, from a scratch directory that sees the source tree's
# examples/) and must write a JUnit report that parses, with one test case
# per job of examples/ci.ini.

load helpers
bats_require_minimum_version 1.5.0

: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"

# Python reads what cancelrun wrote (find_python: the interpreter, once).
setup_file() {
	find_python
}

# yq FILE EXPR: prints the Python expression EXPR of the YAML document in
# FILE (y), or fails.
yq() {
	"$CR_PYTHON" - "$1" "$2" <<'EOF'
import sys, yaml
y = yaml.safe_load(open(sys.argv[1]))
v = eval(sys.argv[2])
if v is None or v is False:
    sys.exit(1)
print(v)
EOF
}

# run_step COMMAND: runs the shell COMMAND from the example in $TMP, with
# the cancelrun under test on PATH, marked, and checks its JUnit report.
run_step() {
	ln -s "$TOP_SRCDIR/examples" "$TMP/examples"
	cd "$TMP"
	run env CR_TEST_MARK="$MARK" PATH="$(dirname "$CANCELRUN"):$PATH" \
	    sh -ec "$1"
	echo "$output"
	[ "$status" -eq 0 ]
	"$CR_PYTHON" - "$TMP/junit.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot().find("testsuite")
names = [t.get("name") for t in s.findall("testcase")]
assert s.get("name") == "ci.ini", s.get("name")
assert names == ["lint", "build", "shard-1", "shard-2", "shard-3"], names
assert s.get("failures") == s.get("errors") == s.get("skipped") == "0"
EOF
	no_survivors
}

@test "examples/github-actions.yml: valid YAML, the report published always" {
	local f="$TOP_SRCDIR/examples/github-actions.yml"
	python3 -c 'import yaml' || {
		echo "python3's yaml module is needed (Debian: python3-yaml)"
		return 1
	}
	yq "$f" 'y["jobs"]["test"]["steps"]'
	# The step that runs cancelrun, and the ones after it that read the
	# report: `if: always()`, and the same file.
	yq "$f" '[s for s in y["jobs"]["test"]["steps"]
	    if "cancelrun" in s.get("run", "") and
	       "--junit junit.xml" in s["run"]][0]'
	yq "$f" '(all(s.get("if") == "always()" and "junit.xml" in str(s["with"])
	    for s in y["jobs"]["test"]["steps"][3:]) and
	    len(y["jobs"]["test"]["steps"]) == 5)'
	# cancelrun's deadline comes before GitHub's.
	yq "$f" '(y["jobs"]["test"]["timeout-minutes"] > 20 and
	    "--timeout 20m" in y["jobs"]["test"]["steps"][2]["run"])'
	run_step "$(yq "$f" 'y["jobs"]["test"]["steps"][2]["run"]')"
}

@test "examples/gitlab-ci.yml: valid YAML, the report published always" {
	local f="$TOP_SRCDIR/examples/gitlab-ci.yml"
	python3 -c 'import yaml' || {
		echo "python3's yaml module is needed (Debian: python3-yaml)"
		return 1
	}
	yq "$f" 'y["test"]["artifacts"]["when"] == "always"'
	yq "$f" 'y["test"]["artifacts"]["reports"]["junit"] == "junit.xml"'
	yq "$f" 'y["test"]["timeout"] == "30m"'
	yq "$f" '[l for l in y["test"]["script"] if "cancelrun" in l and
	    "--junit junit.xml" in l and "--timeout 20m" in l][0]'
	run_step "$(yq "$f" '[l for l in y["test"]["script"]
	    if "cancelrun" in l][0]')"
}

@test "README.md names the CI examples" {
	grep -qF examples/github-actions.yml "$TOP_SRCDIR/README.md"
	grep -qF examples/gitlab-ci.yml "$TOP_SRCDIR/README.md"
}
