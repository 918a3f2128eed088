#!/usr/bin/env bats
# checkwarn.bats - issue 12, item 6: warnings of --check.
#
# A valid job file may still hold likely mistakes: a command written for a
# shell that no shell reads, a program that cannot be run.  --check warns
# ("FILE:LINE: warning: ..." on stderr, with the line of the `command`
# key) and exits 0; -W (--warnings-as-errors) makes them errors (125).
# Nothing is run: the checks only look.

load helpers

# check [ARGS...]: cancelrun --check $TMP/jobs.ini with ARGS before it;
# stdout in $TMP/out, stderr in $TMP/err, status in $status.
check() {
	status=0
	"$CANCELRUN" "$@" --check "$TMP/jobs.ini" >"$TMP/out" 2>"$TMP/err" ||
	    status=$?
}

# show: both outputs, for a failure message.
show() {
	echo "--- stdout:" >&2
	cat "$TMP/out" >&2
	echo "--- stderr:" >&2
	cat "$TMP/err" >&2
}

# has_line TEXT: stderr holds the line TEXT exactly.
has_line() {
	grep -qxF -- "$1" "$TMP/err" || { show; false; }
}

# n_err: the number of lines on stderr.
n_err() {
	wc -l < "$TMP/err"
}

@test "shell syntax as a word: a warning at the command's line, status 0" {
	cat > "$TMP/jobs.ini" <<'EOF'
[cancelrun]
timeout = 1m

[job:build]
; the comment moves the command down a line
cwd = /
command = make && make install
EOF
	check
	[ "$status" -eq 0 ] || { show; false; }
	has_line "$TMP/jobs.ini:7: warning: job 'build': '&&' is shell syntax, but 'command' runs no shell: use sh -c '...'"
	[ "$(n_err)" -eq 1 ] || { show; false; }
	[ "$(cat "$TMP/out")" = "$TMP/jobs.ini: ok: 1 job, 0 groups" ]
}

@test "every kind of shell syntax, as a word or inside one" {
	cat > "$TMP/jobs.ini" <<'EOF'
[job:or]
command = test -e x || true
[job:pipe]
command = cat file | sort
[job:semi]
command = true \; true
[job:out]
command = echo hi > out
[job:in]
command = cat < in
[job:glued]
command = echo hi>out
[job:var]
command = echo $HOME
[job:braces]
command = echo ${HOME}
[job:subst]
command = echo $(date)
[job:back]
command = echo `date`
[job:semi2]
command = echo a;b
[job:bg]
command = sleep 1 &
EOF
	check
	[ "$status" -eq 0 ] || { show; false; }
	has_line "$TMP/jobs.ini:2: warning: job 'or': '||' is shell syntax, but 'command' runs no shell: use sh -c '...'"
	has_line "$TMP/jobs.ini:4: warning: job 'pipe': '|' is shell syntax, but 'command' runs no shell: use sh -c '...'"
	has_line "$TMP/jobs.ini:6: warning: job 'semi': ';' is shell syntax, but 'command' runs no shell: use sh -c '...'"
	has_line "$TMP/jobs.ini:8: warning: job 'out': '>' is shell syntax, but 'command' runs no shell: use sh -c '...'"
	has_line "$TMP/jobs.ini:10: warning: job 'in': '<' is shell syntax, but 'command' runs no shell: use sh -c '...'"
	has_line "$TMP/jobs.ini:12: warning: job 'glued': '>' (in 'hi>out') is shell syntax, but 'command' runs no shell: use sh -c '...'"
	has_line "$TMP/jobs.ini:14: warning: job 'var': '\$HOME' is shell syntax, but 'command' runs no shell: use sh -c '...'"
	has_line "$TMP/jobs.ini:16: warning: job 'braces': '\${' (in '\${HOME}') is shell syntax, but 'command' runs no shell: use sh -c '...'"
	has_line "$TMP/jobs.ini:18: warning: job 'subst': '\$(' (in '\$(date)') is shell syntax, but 'command' runs no shell: use sh -c '...'"
	has_line "$TMP/jobs.ini:20: warning: job 'back': '\`' (in '\`date\`') is shell syntax, but 'command' runs no shell: use sh -c '...'"
	has_line "$TMP/jobs.ini:22: warning: job 'semi2': ';' (in 'a;b') is shell syntax, but 'command' runs no shell: use sh -c '...'"
	has_line "$TMP/jobs.ini:24: warning: job 'bg': '&' is shell syntax, but 'command' runs no shell: use sh -c '...'"
	# One warning per job, in file order.
	[ "$(n_err)" -eq 12 ] || { show; false; }
	[ "$(cut -d: -f2 "$TMP/err" | paste -sd, -)" = 2,4,6,8,10,12,14,16,18,20,22,24 ]
}

@test "the script of sh -c and bash -c is the shell's: no warning" {
	cat > "$TMP/jobs.ini" <<'EOF'
[job:sh]
command = sh -c 'make && make install | tee log; echo $HOME > x'
[job:bash]
command = bash -c "test -e x || echo \"$PWD\" >&2" my-name 'a|b'
[job:opts]
command = env A=1 bash -o pipefail -ec 'a | b'
[job:abs]
command = /bin/sh -xc 'a && b'
[job:plain]
command = printf '%s\n' 'a b' "c d" e=f --x=y 50%
[job:dollar]
command = echo 5$ '$' $1
[job:find]
command = find . -name '*.o' -exec rm {} \;
EOF
	check
	[ "$status" -eq 0 ] || { show; false; }
	[ ! -s "$TMP/err" ] || { show; false; }
	[ "$(cat "$TMP/out")" = "$TMP/jobs.ini: ok: 7 jobs, 0 groups" ]
}

@test "a shell without -c runs a script: its arguments are looked at" {
	cat > "$TMP/jobs.ini" <<'EOF'
[job:script]
command = sh ./run.sh > log
EOF
	printf '#!/bin/sh\n' > "$TMP/run.sh"
	cd "$TMP"
	check
	[ "$status" -eq 0 ] || { show; false; }
	has_line "$TMP/jobs.ini:2: warning: job 'script': '>' is shell syntax, but 'command' runs no shell: use sh -c '...'"
	[ "$(n_err)" -eq 1 ] || { show; false; }
}

@test "a program not on PATH, or not executable there" {
	mkdir "$TMP/bin" "$TMP/bin2"
	printf '#!/bin/sh\n' > "$TMP/bin/tool"
	chmod 644 "$TMP/bin/tool"
	printf '#!/bin/sh\nexit 0\n' > "$TMP/bin2/good"
	chmod 755 "$TMP/bin2/good"
	mkdir "$TMP/bin/adir"
	cat > "$TMP/jobs.ini" <<'EOF'
[job:missing]
command = no-such-program-crtest --help
[job:noexec]
command = tool
[job:dir]
command = adir
[job:good]
command = good --flag
[cleanup:tidy]
command = no-such-cleanup-crtest
EOF
	PATH="$TMP/bin:$TMP/bin2:$PATH" check
	[ "$status" -eq 0 ] || { show; false; }
	has_line "$TMP/jobs.ini:2: warning: job 'missing': program 'no-such-program-crtest' not found on PATH"
	has_line "$TMP/jobs.ini:4: warning: job 'noexec': program 'tool' on PATH is not an executable file"
	has_line "$TMP/jobs.ini:6: warning: job 'dir': program 'adir' on PATH is not an executable file"
	has_line "$TMP/jobs.ini:10: warning: job 'tidy': program 'no-such-cleanup-crtest' not found on PATH"
	[ "$(n_err)" -eq 4 ] || { show; false; }
	# A later directory with an executable one is what execvp runs.
	printf '#!/bin/sh\n' > "$TMP/bin2/tool"
	chmod 755 "$TMP/bin2/tool"
	PATH="$TMP/bin:$TMP/bin2:$PATH" check
	not grep -q "job 'noexec'" "$TMP/err"
}

@test "a program with a slash: relative to the job's cwd, else to ours" {
	mkdir -p "$TMP/proj" "$TMP/here"
	printf '#!/bin/sh\n' > "$TMP/proj/run.sh"
	chmod 755 "$TMP/proj/run.sh"
	printf 'data\n' > "$TMP/proj/data.txt"
	cat > "$TMP/jobs.ini" <<EOF
[job:incwd]
cwd = $TMP/proj
command = ./run.sh
[job:gone]
cwd = $TMP/proj
command = ./gone.sh
[job:data]
cwd = $TMP/proj
command = ./data.txt
[job:ours]
command = ./run.sh
[job:abs]
command = $TMP/proj/run.sh
[job:absgone]
cwd = $TMP/proj
command = /nonexistent-crtest/run
EOF
	cd "$TMP/here"
	check
	[ "$status" -eq 0 ] || { show; false; }
	has_line "$TMP/jobs.ini:6: warning: job 'gone': program './gone.sh' not found in its cwd '$TMP/proj'"
	has_line "$TMP/jobs.ini:9: warning: job 'data': program './data.txt' is not an executable file"
	has_line "$TMP/jobs.ini:11: warning: job 'ours': program './run.sh' not found"
	has_line "$TMP/jobs.ini:16: warning: job 'absgone': program '/nonexistent-crtest/run' not found"
	[ "$(n_err)" -eq 4 ] || { show; false; }
}

@test "-W and --warnings-as-errors: the warnings fail the check (125)" {
	cat > "$TMP/jobs.ini" <<'EOF'
[job:a]
command = true && true
[job:b]
command = no-such-program-crtest
EOF
	for opt in -W --warnings-as-errors; do
		check "$opt"
		[ "$status" -eq 125 ] || { show; false; }
		has_line "$TMP/jobs.ini:2: error: job 'a': '&&' is shell syntax, but 'command' runs no shell: use sh -c '...'"
		has_line "$TMP/jobs.ini:4: error: job 'b': program 'no-such-program-crtest' not found on PATH"
		[ "$(n_err)" -eq 2 ] || { show; false; }
		[ ! -s "$TMP/out" ] || { show; false; }
	done
	# Under -q the errors are still printed; the warnings are not.
	check -q -W
	[ "$status" -eq 125 ]
	[ "$(n_err)" -eq 2 ] || { show; false; }
	check -q
	[ "$status" -eq 0 ]
	[ ! -s "$TMP/err" ] || { show; false; }
	[ ! -s "$TMP/out" ] || { show; false; }
}

@test "-W on a clean file: 0; a wrong file stays an error" {
	printf '[job:a]\ncommand = sh -c "true && true"\n' > "$TMP/jobs.ini"
	check -W
	[ "$status" -eq 0 ] || { show; false; }
	[ ! -s "$TMP/err" ] || { show; false; }
	[ "$(cat "$TMP/out")" = "$TMP/jobs.ini: ok: 1 job, 0 groups" ]
	printf '[job:a]\ncommand = true && true\nbogus = 1\n' > "$TMP/jobs.ini"
	check -W
	[ "$status" -eq 125 ]
	grep -q "^$TMP/jobs.ini:3: unknown key 'bogus'" "$TMP/err" || { show; false; }
	not grep -q warning "$TMP/err"
}

@test "-W without --check is a usage error, and nothing runs" {
	printf '[job:a]\ncommand = touch %s/ran\n' "$TMP" > "$TMP/jobs.ini"
	run "$CANCELRUN" -W -f "$TMP/jobs.ini"
	[ "$status" -eq 125 ]
	[ "$output" = "cancelrun: --warnings-as-errors (-W) applies to --check only" ]
	run "$CANCELRUN" --warnings-as-errors -- touch "$TMP/ran"
	[ "$status" -eq 125 ]
	[ ! -e "$TMP/ran" ]
}

@test "a command on continuation lines: the warning names the key's line" {
	cat > "$TMP/jobs.ini" <<'EOF'
[job:long]
command =
    make
    && make install
EOF
	check
	[ "$status" -eq 0 ] || { show; false; }
	has_line "$TMP/jobs.ini:2: warning: job 'long': '&&' is shell syntax, but 'command' runs no shell: use sh -c '...'"
}

@test "running a job file does not warn: only --check does" {
	printf '[job:a]\ncommand = echo a && b\n' > "$TMP/jobs.ini"
	run "$CANCELRUN" -q -f "$TMP/jobs.ini"
	[ "$status" -eq 0 ]
	[ "$output" = "a && b" ]
}
