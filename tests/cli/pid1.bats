#!/usr/bin/env bats
# pid1.bats - issue 3: cancelrun as PID 1 of a PID namespace (a container
# entrypoint).  It must reap every orphan, treat INT, TERM and HUP sent
# from outside as a cancellation, give re-parented orphans the stop
# sequence, and exit with the job's status.
#
# Each test runs `unshare --pid --fork --mount-proc cancelrun ...`; the
# host-side PID of cancelrun is the child of the unshare process.  When
# PID 1 exits the kernel kills whatever is left in the namespace, so "no
# survivors" alone proves little here: the tests also check from the host
# that the tree was up and re-parented to cancelrun, that orphans got the
# stop signal (TERM) and not only the namespace's final KILL, and, from
# inside the namespace, that no zombie lasts.  Command scripts are written
# to $TMP/cmd and run as `bash $TMP/cmd MARK TMP`.

load helpers

# find_cr: set CR_PID to cancelrun's host-side PID.
find_cr() {
	if ! wait_for ns_pid1; then
		echo "unshare ($NS_PID) never got a child" >&2
		cr_stderr
		return 1
	fi
}

live_marked() {
	marked_pids | grep -vx -e "${CR_PID:-0}" -e "${NS_PID:-0}" || true
}

expect_status() {
	if [ "$status" != "$1" ]; then
		echo "cancelrun (via unshare) exited $status, expected $1" >&2
		cr_stderr
		show_tree
		return 1
	fi
}

# got_term: the TERM-handling daemon (daemon_script) was sent TERM.
got_term() {
	if [ "$(cat "$TMP/got" 2>/dev/null)" != TERM ]; then
		echo "the re-parented daemon never got the stop signal" >&2
		cr_stderr
		return 1
	fi
}

# daemon_script: $TMP/daemon records a TERM in $TMP/got and exits.
daemon_script() {
	cat > "$TMP/daemon" <<'EOF'
trap 'echo TERM > "$2/got"; exit 0' TERM
echo $$ > "$2/d"
while :; do sleep 0.1 & wait $!; done
EOF
}

# orphans_script: the command leaves two plain orphans, one that ignores
# TERM, and a setsid'd daemon that handles TERM (all re-parented to PID 1),
# then runs on as "$1-main".
orphans_script() {
	daemon_script
	cat > "$TMP/cmd" <<'EOF'
( (exec -a "$1-o" sleep 1000) & )
( (exec -a "$1-o" sleep 1000) & )
( (trap '' TERM; exec -a "$1-o" sleep 1000) & )
( setsid bash "$2/daemon" "$1" "$2" & )
while [ ! -s "$2/d" ]; do sleep 0.01; done
echo up > "$2/ready"
exec -a "$1-main" sleep 1000
EOF
}

# pids_args STRING: live marked processes whose argv contains STRING.
pids_args() {
	local pid files=()
	for pid in $(live_marked); do
		files+=("/proc/$pid/cmdline")
	done
	[ "${#files[@]}" -gt 0 ] || return 0
	grep -laF -- "$1" "${files[@]}" 2>/dev/null | cut -d/ -f3
}

# children_are PARENT STRING N: exactly N processes have STRING in their
# argv, and all are children of PARENT.
children_are() {
	local p n=0
	for p in $(pids_args "$2"); do
		[ "$(stat_field "$p" 2)" = "$1" ] || return 1
		n=$((n + 1))
	done
	[ "$n" -eq "$3" ]
}

# check_orphans: the three orphans and the daemon are up and re-parented
# to cancelrun (PIDs in $TMP are the namespace's; look from the host).
check_orphans() {
	find_cr
	wait_file "$TMP/ready"
	if ! wait_for children_are "$CR_PID" "$MARK-o" 3 ||
	    ! wait_for children_are "$CR_PID" "$TMP/daemon" 1; then
		echo "the orphans were not all re-parented to PID 1" >&2
		show_tree
		return 1
	fi
	still_running
}

@test "PID 1: the command's exit status is passed through" {
	ns_start -t 10s -g 1s -- sh -c 'echo "pid=$$ ppid=$PPID"; exit 3' \
	    "$MARK"
	cr_wait
	expect_status 3
	# the command's parent was PID 1: cancelrun really was init
	grep -qx 'pid=2 ppid=1' "$TMP/out"
}

@test "PID 1: a command killed by a signal cancelrun did not send gives 128+N" {
	ns_start -t 10s -g 1s -- sh -c 'kill -KILL $$' "$MARK"
	cr_wait
	expect_status 137
}

@test "PID 1: timeout stops orphans re-parented to PID 1, with the stop signal" {
	orphans_script
	ns_start -t 3s -g 1s -- bash "$TMP/cmd" "$MARK" "$TMP"
	check_orphans
	cr_wait
	expect_status 124
	got_term
	assert_none_left
}

@test "PID 1: the command exits by itself, its orphans are stopped, status is kept" {
	daemon_script
	cat > "$TMP/cmd" <<'EOF'
( (exec -a "$1-o" sleep 1000) & )
( (trap '' TERM; exec -a "$1-o" sleep 1000) & )
( setsid bash "$2/daemon" "$1" "$2" & )
while [ ! -s "$2/d" ]; do sleep 0.01; done
echo up > "$2/ready"
exit 5
EOF
	ns_start -t 20s -g 1s -- bash "$TMP/cmd" "$MARK" "$TMP"
	cr_wait
	expect_status 5
	[ -s "$TMP/ready" ]
	[ "$CR_MS" -lt 10000 ] || { echo "took $CR_MS ms" >&2; false; }
	got_term
	assert_none_left
}

@test "PID 1: orphans that exit are reaped, no zombie lasts" {
	# Inside the namespace: orphans that live 0.1 s are made for ~2 s;
	# zombies are sampled 1 s apart (one seen twice has lasted a second),
	# orphans seen re-parented to PID 1 are counted (so the test is not
	# vacuous), and the zombies left after a short settle are counted.
	cat > "$TMP/cmd" <<'EOF'
zombies() { ps -eo pid=,stat= | awk '$2 ~ /^Z/ { print $1 }'; }
(
	i=0
	while [ $i -lt 40 ]; do
		( (exec -a "$1-o" sleep 0.1) & )
		sleep 0.05
		i=$((i + 1))
	done
) &
spawner=$!
sleep 0.3
seen=0
a=$(zombies)
for r in 1 2; do
	n=$(ps -eo ppid=,comm= | awk '$1 == 1 && $2 == "sleep"' | wc -l)
	seen=$((seen + n))
	sleep 1
	b=" $(echo $(zombies)) "
	for z in $a; do
		case $b in
		*" $z "*)
			echo "lasting zombie:" \
			    "$(ps -o pid=,ppid=,stat=,args= -p $z)" ;;
		esac
	done
	a=$b
done
wait $spawner
sleep 0.5
echo "orphans=$seen"
echo "final=$(zombies | wc -l)"
ps -eo pid,ppid,stat,args | awk '$3 ~ /^Z/'
EOF
	ns_start -t 20s -g 1s -- bash "$TMP/cmd" "$MARK" "$TMP"
	cr_wait
	expect_status 0
	if grep -q lasting "$TMP/out" || ! grep -qx 'final=0' "$TMP/out"; then
		echo "zombies in the namespace:" >&2
		cr_stderr
		return 1
	fi
	if grep -qx 'orphans=0' "$TMP/out"; then
		echo "no orphan was ever seen re-parented to PID 1" >&2
		cr_stderr
		return 1
	fi
	assert_none_left
}

# signal_case SIG WANT: the orphan tree, cancelled by SIG sent to the
# namespace's PID 1 from the host (a 20 s deadline is the backstop).
signal_case() {
	orphans_script
	ns_start -t 20s -g 1s -- bash "$TMP/cmd" "$MARK" "$TMP"
	check_orphans
	kill -s "$1" "$CR_PID"
	cr_wait
	expect_status "$2"
	got_term
	assert_none_left
}

@test "PID 1: TERM from outside cancels the job, 143" {
	signal_case TERM 143
}

@test "PID 1: INT from outside cancels the job, 130" {
	signal_case INT 130
}

@test "PID 1: HUP from outside cancels the job, 129" {
	signal_case HUP 129
}

@test "PID 1: -v says how many processes each step signalled" {
	orphans_script
	ns_start -v -t 3s -g 1s -- bash "$TMP/cmd" "$MARK" "$TMP"
	check_orphans
	cr_wait
	expect_status 124
	assert_none_left
	# TERM reaches main, 3 orphans, the daemon and maybe its sleep;
	# KILL then only the TERM-ignoring orphan
	if ! grep -E 'TERM' "$TMP/err" | grep -oE '[0-9]+ process' |
	    awk '$1 >= 5 { ok = 1 } END { exit !ok }'; then
		echo "no -v line says TERM reached >= 5 processes" >&2
		cr_stderr
		return 1
	fi
	if ! grep -E 'KILL' "$TMP/err" | grep -oE '[0-9]+ process' |
	    awk '$1 >= 1 { ok = 1 } END { exit !ok }'; then
		echo "no -v line says how many processes KILL reached" >&2
		cr_stderr
		return 1
	fi
}
