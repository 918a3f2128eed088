#!/usr/bin/env bats
#
# outpipes.bats - issue 10: prefixed output through bigger pipes and
# bigger chunks, and children that copy only the low end of cancelrun's
# descriptor table.  Lines must stay whole, unmixed and in order per job
# and stream whatever the sizes; a line longer than any buffer still
# arrives complete; the jobs' pipes grow only for heavy output, and the
# pipe cancelrun writes to (the reader's) never; a job started while many
# others hold pipes still sees descriptors 0, 1 and 2 only.
# The jobs are small python programs written into $TMP.

load helpers
bats_require_minimum_version 1.5.0

# heavy_py FILE CHAR ROUNDS: FILE is a python script that writes ROUNDS
# times 10,000 lines of 99 CHARs to its stdout, with whole writes.
heavy_py() {
	cat >"$1" <<PY
import os
b = (b"$2" * 99 + b"\\n") * 10000
for i in range($3):
    c = b
    while c:
        c = c[os.write(1, c):]
PY
}

# gen_job TAG COUNT MAXLEN: prints a job's command that writes COUNT lines
# "TAG SEQ S xxx..." of lengths 0..MAXLEN (a fixed pattern) to stdout
# (S = o) and stderr (S = e), alternating, in writes of 40 lines.
gen_job() {
	cat >"$TMP/gen.py" <<'PY'
import os, sys
tag, count, maxlen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
bufs = {1: [], 2: []}
def out(fd):
    b = "".join(bufs[fd]).encode()
    while b:
        b = b[os.write(fd, b):]
    bufs[fd] = []
for i in range(count):
    fd = 1 + i % 2
    n = (i * 7919) % (maxlen + 1)
    bufs[fd].append("%s %d %s %s\n" % (tag, i, "oe"[fd - 1], "x" * n))
    if len(bufs[fd]) == 40:
        out(fd)
out(1)
out(2)
PY
	printf 'python3 %s %s %s %s' "$TMP/gen.py" "$1" "$2" "$3"
}

# check_lines FILE STREAM COUNT MAXLEN TAG...: FILE holds, for each TAG,
# exactly the lines gen_job wrote to STREAM (o or e), each whole, prefixed
# with its own job's name, in order.
check_lines() {
	python3 - "$@" <<'PY'
import re, sys
path, stream, count, maxlen = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4])
tags = sys.argv[5:]
want = {t: [i for i in range(count) if "oe"[i % 2] == stream] for t in tags}
pos = {t: 0 for t in tags}
pat = re.compile(rb"\[(\w+)\] (\w+) (\d+) ([oe]) (x*)\n")
with open(path, "rb") as f:
    for n, line in enumerate(f, 1):
        m = pat.fullmatch(line)
        assert m, (n, line[:80])
        job, tag, seq, s, xs = m.groups()
        job, tag, seq = job.decode(), tag.decode(), int(seq)
        assert job == tag and s.decode() == stream, (n, line[:80])
        assert seq == want[tag][pos[tag]], (n, seq, want[tag][pos[tag]])
        assert len(xs) == (seq * 7919) % (maxlen + 1), (n, len(xs))
        pos[tag] += 1
for t in tags:
    assert pos[t] == len(want[t]), (t, pos[t], len(want[t]))
PY
}

@test "heavy output of two jobs, lines up to 60000 bytes: whole, unmixed, in order" {
	{
		printf '[job:a]\ncommand = %s\n' "$(gen_job a 3000 60000)"
		printf '[job:b]\ncommand = %s\n' "$(gen_job b 3000 60000)"
	} >"$TMP/j.ini"
	# stdout through a pipe (which cancelrun may grow), stderr to a file.
	env CR_TEST_MARK="$MARK" "$CANCELRUN" -q -f "$TMP/j.ini" \
	    2>"$TMP/err" | cat >"$TMP/out"
	[ "${PIPESTATUS[0]}" -eq 0 ]
	check_lines "$TMP/out" o 3000 60000 a b
	check_lines "$TMP/err" e 3000 60000 a b
	no_survivors
}

@test "stdout and stderr into one pipe: lines still whole and unmixed" {
	{
		printf '[job:a]\ncommand = %s\n' "$(gen_job a 4000 3000)"
		printf '[job:b]\ncommand = %s\n' "$(gen_job b 4000 3000)"
	} >"$TMP/j.ini"
	env CR_TEST_MARK="$MARK" "$CANCELRUN" -q -f "$TMP/j.ini" 2>&1 |
	    cat >"$TMP/both"
	[ "${PIPESTATUS[0]}" -eq 0 ]
	grep -a ' o x*$' "$TMP/both" >"$TMP/out" || true
	grep -a ' e x*$' "$TMP/both" >"$TMP/err" || true
	# Every line is one of the two kinds, whole.
	[ "$(($(wc -l <"$TMP/out") + $(wc -l <"$TMP/err")))" -eq \
	    "$(wc -l <"$TMP/both")" ]
	check_lines "$TMP/out" o 4000 3000 a b
	check_lines "$TMP/err" e 4000 3000 a b
	no_survivors
}

@test "a 3 MiB line arrives whole, prefixed once, and so does the next" {
	cat >"$TMP/long.py" <<'PY'
import os
b = b"y" * (3 << 20) + b"\nend\n"
while b:
    b = b[os.write(1, b):]
PY
	printf '[job:a]\ncommand = python3 %s\n' "$TMP/long.py" >"$TMP/j.ini"
	env CR_TEST_MARK="$MARK" "$CANCELRUN" -q --output=prefix \
	    -f "$TMP/j.ini" 2>"$TMP/err" | cat >"$TMP/out"
	[ "${PIPESTATUS[0]}" -eq 0 ]
	python3 - "$TMP/out" <<'PY'
import sys
got = open(sys.argv[1], "rb").read()
want = b"[a] " + b"y" * (3 << 20) + b"\n[a] end\n"
assert got == want, (len(got), len(want), got[:20], got[-20:])
PY
	no_survivors
}

@test "a job that writes much gets a 256 KiB pipe, one that writes little does not" {
	heavy_py "$TMP/heavy.py" z 4
	cat >>"$TMP/heavy.py" <<'PY'
import fcntl, sys
print("pipe", fcntl.fcntl(1, fcntl.F_GETPIPE_SZ), file=sys.stderr)
PY
	cat >"$TMP/light.py" <<'PY'
import fcntl, sys
print("hello", flush=True)
print("pipe", fcntl.fcntl(1, fcntl.F_GETPIPE_SZ), file=sys.stderr)
PY
	printf '[job:heavy]\ncommand = python3 %s\n' "$TMP/heavy.py" \
	    >"$TMP/j.ini"
	printf '[job:light]\ncommand = python3 %s\n' "$TMP/light.py" \
	    >>"$TMP/j.ini"
	run --separate-stderr env CR_TEST_MARK="$MARK" "$CANCELRUN" -q \
	    -f "$TMP/j.ini"
	echo "$stderr"
	[ "$status" -eq 0 ]
	grep -qx '\[heavy\] pipe 262144' <<<"$stderr"
	grep -Eqx '\[light\] pipe [0-9]+' <<<"$stderr"
	not grep -qx '\[light\] pipe 262144' <<<"$stderr"
	grep -qx '\[light\] hello' <<<"$output"
	[ "$(grep -cx '\[heavy\] z*' <<<"$output")" -eq 40000 ]
	no_survivors
}

@test "the pipe cancelrun writes to keeps its size, however heavy the output" {
	# It is the reader's too (inherited, shared with the shell): only the
	# jobs' pipes, which are cancelrun's own, grow.
	heavy_py "$TMP/heavy.py" w 8
	python3 - "$CANCELRUN" "$MARK" "$TMP" <<'PY'
import fcntl, os, subprocess, sys
cr, mark, tmp = sys.argv[1:4]
# The capacity of the pipe cancelrun wrote a job's output to, before and
# after, and the bytes read from it.
def size_after(cmd):
    ini = os.path.join(tmp, "j.ini")
    with open(ini, "w") as f:
        f.write("[job:a]\ncommand = %s\n" % cmd)
    r, w = os.pipe()
    before = fcntl.fcntl(r, fcntl.F_GETPIPE_SZ)
    p = subprocess.Popen(["env", "CR_TEST_MARK=" + mark, cr, "-q",
                          "--output=prefix", "-f", ini], stdout=w)
    os.close(w)
    n = 0
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        n += len(b)
    assert p.wait() == 0
    size = fcntl.fcntl(r, fcntl.F_GETPIPE_SZ)
    os.close(r)
    return before, size, n
before, size, n = size_after("python3 " + os.path.join(tmp, "heavy.py"))
print("heavy", before, size, n)
assert n == 8 * 10000 * 104 and size == before, (before, size, n)
before, size, n = size_after("echo hi")
print("light", before, size, n)
assert n == len("[a] hi\n") and size == before, (before, size, n)
PY
	no_survivors
}

@test "many jobs holding pipes: a job started late still has only 0, 1 and 2" {
	{
		printf '[cancelrun]\ntimeout = 60s\n'
		for i in $(seq 1 60); do
			printf '[job:j%d]\n' "$i"
			printf 'command = sh -c %s %s\n' \
			    "'\"\$0\"; sleep 1'" "'$CHILDINFO'"
		done
	} >"$TMP/j.ini"
	# Descriptors 5 and 300 are open in cancelrun as well.
	run --separate-stderr bash -c 'exec 5</dev/null 300</dev/null;
	    exec env CR_TEST_MARK="$1" "$0" -q -f "$2"' \
	    "$CANCELRUN" "$MARK" "$TMP/j.ini"
	echo "status $status: $stderr"
	grep fds <<<"$output" || true
	[ "$status" -eq 0 ]
	for i in $(seq 1 60); do
		grep -qx "\[j$i\] fds 0 1 2" <<<"$output"
	done
	no_survivors
}

@test "a stuck reader and 2-byte lines: the queue stays near its bound" {
	# Prefixes triple "y\n": what a grown pipe holds at the job's end is
	# queued at once, so the pipes must not grow too far.  What is given
	# up when the deadline ends the run is what was queued.
	printf '[cancelrun]\ntimeout = 1s\n[job:a]\ncommand = yes\n[job:b]\ncommand = yes\n' \
	    >"$TMP/j.ini"
	mkfifo "$TMP/ff"
	env CR_TEST_READER="rd$$" sleep 30 <"$TMP/ff" &
	BG_PIDS+=("$!")
	run bash -c 'exec env CR_TEST_MARK="$1" "$0" -q -f "$2" >"$3" \
	    2>"$4"' "$CANCELRUN" "$MARK" "$TMP/j.ini" "$TMP/ff" "$TMP/err"
	echo "status $status: $(cat "$TMP/err")"
	[ "$status" -eq 124 ]
	n=$(sed -n 's/.*output: \([0-9]*\) bytes of the jobs.*/\1/p' \
	    "$TMP/err")
	[ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt $((4 << 20)) ]
	no_survivors
}
