#!/usr/bin/env bats
#
# container.bats - issue 13, item 3: cancelrun in containers.
#
# The empty-image tests copy the binary alone into an empty directory and
# run it there with chroot(8), then as PID 1 of a new PID namespace in
# that root.  The root has nothing but /cancelrun (and, for the namespace,
# an empty /proc on which unshare mounts the namespace's proc, as a
# container runtime does).  They need a static binary (configure's
# default): a dynamic one (--disable-static-binary) needs its loader and
# libraries, and the tests say so instead of running.  They need root
# (chroot, namespaces): where the kernel refuses them, they say that.
#
# examples/container/Dockerfile and examples/kubernetes/*.yaml are parsed
# (python3-yaml) and checked for the grace relationships, and their
# commands run here as the platform runs them: as PID 1, stopped by TERM.
# Processes carry MARK (argv or environment) and are cleaned up by PID.

load helpers
bats_require_minimum_version 1.5.0

: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"

# is_static FILE: FILE is an ELF without a program interpreter (no
# PT_INTERP): it runs without a loader or libraries.
is_static() {
	python3 - "$1" <<'EOF'
import struct, sys
with open(sys.argv[1], "rb") as f:
    elf = f.read()
if elf[:4] != b"\x7fELF" or elf[4] != 2:
    sys.exit(2)
phoff, = struct.unpack_from("<Q", elf, 0x20)
phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
for i in range(phnum):
    ptype, = struct.unpack_from("<I", elf, phoff + i * phentsize)
    if ptype == 3:        # PT_INTERP
        sys.exit(1)
EOF
}

# empty_root: $TMP/root holding /cancelrun alone; skips, saying why, for
# a dynamic build.
empty_root() {
	if ! is_static "$CANCELRUN"; then
		skip "cancelrun is linked dynamically (configure" \
		    "--disable-static-binary, or no libev/inih archives):" \
		    "it cannot run in an empty root without its loader and" \
		    "libraries"
	fi
	mkdir "$TMP/root"
	cp "$CANCELRUN" "$TMP/root/cancelrun"
	[ "$(ls -A "$TMP/root")" = cancelrun ]
}

# need_ok STATUS STDERR WHAT: skips when the kernel refused WHAT (EPERM,
# not root, a container without the capability), else returns STATUS.
need_ok() {
	if [ "$1" -ne 0 ] && [[ "$2" == *"Operation not permitted"* ||
	    "$2" == *"Permission denied"* ]]; then
		skip "$3 is not permitted here: $2"
	fi
}

@test "empty root: the binary alone runs itself under chroot" {
	empty_root
	run --separate-stderr chroot "$TMP/root" /cancelrun --version
	need_ok "$status" "$stderr" "chroot"
	[ "$status" -eq 0 ]
	# The issue's command: cancelrun supervising itself, no /proc, no
	# shell, no library in the root.
	run --separate-stderr timeout -s KILL 30 chroot "$TMP/root" \
	    /cancelrun -t 5s -- /cancelrun --version
	echo "status $status: $output / $stderr"
	[ "$status" -eq 0 ]
	[ "$output" = "cancelrun $(sed -n 's/^cancelrun //p' <<<"$("$CANCELRUN" --version)")" ]
	[ -z "$stderr" ]
	[ "$(ls -A "$TMP/root")" = cancelrun ]
}

# ns_root ARGS...: /cancelrun ARGS as PID 1 of new PID and mount
# namespaces, chrooted into $TMP/root with the namespace's proc on /proc;
# in the background (start_bg), NS_PID is unshare's PID.
ns_root() {
	mkdir -p "$TMP/root/proc"
	start_bg env CR_TEST_MARK="$MARK" unshare --pid --fork \
	    --mount-proc="$TMP/root/proc" chroot "$TMP/root" /cancelrun "$@"
	NS_PID=$BG_PID
}

# cr_in_ns: ns_pid1, once that PID 1 is /cancelrun (not yet chroot).
cr_in_ns() {
	ns_pid1 && grep -q '^/cancelrun' "/proc/$CR_PID/cmdline"
}

@test "empty root: the binary alone as PID 1 of a new PID namespace" {
	empty_root
	mkdir "$TMP/root/proc"
	run --separate-stderr unshare --pid --fork \
	    --mount-proc="$TMP/root/proc" chroot "$TMP/root" /cancelrun --version
	need_ok "$status" "$stderr" "a new PID namespace (unshare --pid)"
	[ "$status" -eq 0 ]
	run --separate-stderr timeout -s KILL 30 unshare --pid --fork \
	    --mount-proc="$TMP/root/proc" chroot "$TMP/root" \
	    /cancelrun -t 5s -- /cancelrun --version
	echo "status $status: $output / $stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == "cancelrun "* ]]
	# A command that hangs, with nothing but /cancelrun in the root: a
	# cancelrun reading a job file from a FIFO nobody writes.
	mkfifo "$TMP/root/fifo"
	ns_root -t 2s -- /cancelrun -f /fifo
	wait_for cr_in_ns
	# It is PID 1 in its namespace, its root is the empty one.
	grep -E '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' "/proc/$CR_PID/status"
	[ "$(readlink "/proc/$CR_PID/root")" = "$TMP/root" ]
	wait_bg
	echo "status $status"
	cat "$TMP/err"
	[ "$status" -eq 124 ]
	grep -q "timed out after 2s" "$TMP/err"
	# TERM from outside (docker stop, a pod deletion): 143, as PID 1
	# exits with it rather than dying of it.
	ns_root -- /cancelrun -f /fifo
	wait_for cr_in_ns
	wait_for has_children "$CR_PID"
	kill -TERM "$CR_PID"
	wait_bg
	[ "$status" -eq 143 ] || { cr_stderr; false; }
	assert_none_left
}

# dockerfile_json INSTRUCTION: the JSON array of the last INSTRUCTION of
# examples/container/Dockerfile's last stage, as NUL-separated words.
dockerfile_json() {
	python3 - "$TOP_SRCDIR/examples/container/Dockerfile" "$1" <<'EOF'
import json, sys
lines, cur = [], ""
for raw in open(sys.argv[1]):
    line = raw.rstrip("\n")
    if line.lstrip().startswith("#") and not cur:
        continue
    if line.endswith("\\"):
        cur += line[:-1] + " "
        continue
    lines.append(cur + line)
    cur = ""
value = None
for line in lines:
    parts = line.split(None, 1)
    if parts and parts[0].upper() == "FROM":
        value = None
    elif parts and parts[0].upper() == sys.argv[2]:
        value = json.loads(parts[1])
sys.stdout.write("\0".join(value) + "\0")
EOF
}

@test "examples/container/Dockerfile: the binary alone FROM scratch; docker run and stop" {
	local f="$TOP_SRCDIR/examples/container/Dockerfile" grace
	# A stage FROM scratch holds the binary alone; the last stage, on a
	# real base, copies it from there.
	grep -qx 'FROM scratch AS cancelrun' "$f"
	[ "$(sed -n '/^FROM scratch/,/^FROM/p' "$f" | grep -c '^COPY')" -eq 1 ]
	grep -qx 'COPY --from=cancelrun /cancelrun /usr/bin/cancelrun' "$f"
	[ "$(grep '^FROM' "$f" | tail -n 1)" = "FROM debian:bookworm-slim" ]
	mapfile -d '' entry < <(dockerfile_json ENTRYPOINT)
	mapfile -d '' cmd < <(dockerfile_json CMD)
	echo "ENTRYPOINT ${entry[*]} CMD ${cmd[*]}"
	[ "${entry[0]}" = /usr/bin/cancelrun ]
	[ "${entry[1]}" = --grace ]
	[ "${entry[-1]}" = -- ]
	# Below docker stop's 10 s: cancelrun's KILL comes first.
	grace=${entry[2]%s}
	[ "$grace" -lt 10 ]
	# docker run: ENTRYPOINT + CMD as PID 1 of a PID namespace (on this
	# machine's root: the base image's sh and sleep); docker stop: TERM.
	entry[0]=$CANCELRUN
	start_bg env CR_TEST_MARK="$MARK" unshare --pid --fork \
	    --mount-proc "${entry[@]}" "${cmd[@]}"
	NS_PID=$BG_PID
	if ! wait_for grep -q working "$TMP/out"; then
		if grep -q 'Operation not permitted' "$TMP/err"; then
			skip "a new PID namespace is not permitted here: $(cat "$TMP/err")"
		fi
		cr_stderr
		false
	fi
	wait_for n_marked_at_least 1 "$NS_PID"
	kill -TERM "$(children_of "$NS_PID")"
	wait_bg
	[ "$status" -eq 143 ] || { cr_stderr; false; }
	grep -q 'cancelled by signal TERM; stopped by TERM' "$TMP/err"
	assert_none_left
}

# manifest FILE: the container's command and args of a Pod or Job
# manifest, NUL-separated, after checking the grace relationships; the
# checks' values on standard error.
manifest() {
	python3 - "$1" <<'EOF'
import re, sys, yaml

def seconds(s):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    total = 0.0
    for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?", s):
        total += float(n) * units[u or "s"]
    return total

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
assert len(docs) == 1, docs
doc = docs[0]
kind = doc["kind"]
pod = doc["spec"] if kind == "Pod" else doc["spec"]["template"]["spec"]
(c,) = pod["containers"]
argv = c["command"] + c["args"]
assert argv[0] == "/usr/bin/cancelrun", argv
opts = argv[1:argv.index("--")]
val = dict(zip(opts[::2], opts[1::2]))
grace = seconds(val["--grace"])
period = pod["terminationGracePeriodSeconds"]
print("%s: grace %gs < terminationGracePeriodSeconds %ds" %
      (kind, grace, period), file=sys.stderr)
assert grace < period, "cancelrun's grace must end before the kubelet's KILL"
if kind == "Job":
    timeout = seconds(val["--timeout"])
    deadline = doc["spec"]["activeDeadlineSeconds"]
    print("Job: timeout %gs + grace %gs < activeDeadlineSeconds %ds" %
          (timeout, grace, deadline), file=sys.stderr)
    assert timeout + grace < deadline, \
        "activeDeadlineSeconds must come after cancelrun's own stop"
    assert pod["restartPolicy"] == "Never"
sys.stdout.write("\0".join(argv) + "\0")
EOF
}

@test "examples/kubernetes: --grace below terminationGracePeriodSeconds, activeDeadlineSeconds above the deadline" {
	local dir="$TOP_SRCDIR/examples/kubernetes" f n=0
	for f in "$dir"/*.yaml; do
		manifest "$f" >/dev/null
		n=$((n + 1))
	done
	[ "$n" -eq 2 ]
	# The check fails a manifest that gets it wrong.
	sed 's/activeDeadlineSeconds: 3600/activeDeadlineSeconds: 3000/' \
	    "$dir/job.yaml" >"$TMP/late.yaml"
	run manifest "$TMP/late.yaml"
	[ "$status" -ne 0 ]
	[[ "$output" == *"activeDeadlineSeconds must come after"* ]]
	sed 's/terminationGracePeriodSeconds: 30/terminationGracePeriodSeconds: 20/' \
	    "$dir/pod.yaml" >"$TMP/short.yaml"
	run manifest "$TMP/short.yaml"
	[ "$status" -ne 0 ]
	[[ "$output" == *"before the kubelet's KILL"* ]]
}

@test "examples/kubernetes: the Pod's command stops on the kubelet's TERM; the Job's ends by itself" {
	local -a argv
	mapfile -d '' argv < <(manifest "$TOP_SRCDIR/examples/kubernetes/pod.yaml")
	argv[0]=$CANCELRUN
	start_bg env CR_TEST_MARK="$MARK" "${argv[@]}"
	CR_PID=$BG_PID
	wait_for grep -q serving "$TMP/out"
	wait_for has_children "$CR_PID"
	kill -TERM "$CR_PID"
	wait_bg
	[ "$status" -eq 143 ] || { cr_stderr; false; }
	assert_none_left
	mapfile -d '' argv < <(manifest "$TOP_SRCDIR/examples/kubernetes/job.yaml")
	argv[0]=$CANCELRUN
	run env CR_TEST_MARK="$MARK" "${argv[@]}"
	[ "$status" -eq 0 ]
	[ "$output" = "running the tests" ]
	assert_none_left
}
