#!/usr/bin/env bats
# containment.bats - issue 3: nothing of a cancelled job survives and no
# zombie is left.
#
# Each case builds a process tree that tries to escape in one way (ignored
# TERM, nesting, setsid, double fork, emptied environment, SIGSTOP, closed
# stdio, a fork loop), checks that the whole tree really is up, cancels it
# by the deadline or by a signal sent to cancelrun, and then asserts the
# exit status and that no process carrying the test's MARK is left.  The
# command of a case is a bash script written to $TMP/cmd and run as
# `bash $TMP/cmd MARK TMP`, so in it $1 is the mark and $2 the scratch
# directory; long-lived processes are named "$1-..." with `exec -a`, and
# everything also inherits CR_TEST_MARK from cancelrun's environment.

load helpers

# cr_start ARGS...: start cancelrun with ARGS in the background; sets CR_PID.
# A background job of a non-interactive shell starts with INT ignored; env
# resets it so that these tests do not depend on what cancelrun does about
# an inherited SIG_IGN (tested on its own: "inherited INT ignored").
cr_start() {
	CR_T0=${EPOCHREALTIME/./}
	start_bg env --default-signal=INT CR_TEST_MARK="$MARK" \
	    "$CANCELRUN" "$@"
	CR_PID=$BG_PID
}

# cr_wait: wait_bg, then sets CR_MS to cancelrun's run time (milliseconds).
cr_wait() {
	wait_bg
	CR_MS=$(( (${EPOCHREALTIME/./} - CR_T0) / 1000 ))
}

# live_marked: marked_pids without cancelrun itself.
live_marked() {
	marked_pids | grep -vx -- "${CR_PID:-0}" || true
}

# count_args STRING: live marked processes whose argv contains STRING.
count_args() {
	local pid files=()
	for pid in $(live_marked); do
		files+=("/proc/$pid/cmdline")
	done
	if [ "${#files[@]}" -eq 0 ]; then
		echo 0
		return
	fi
	grep -laF -- "$1" "${files[@]}" 2>/dev/null | wc -l
}

# count_is STRING N: count_args STRING is N (for wait_for).
count_is() {
	[ "$(count_args "$1")" -eq "$2" ]
}

# state_is PID STATE
state_is() {
	[ "$(stat_field "$1" 1)" = "$2" ]
}

# ignores_sig PID SIGNUM: PID has SIGNUM at SIG_IGN.
ignores_sig() {
	local mask
	mask=$(awk '$1 == "SigIgn:" { print $2 }' "/proc/$1/status") ||
	    return 1
	(( (16#$mask >> ($2 - 1)) & 1 ))
}

# zombies_of PID: zombie children of PID, in one pass over /proc.
zombies_of() {
	local files=(/proc/[0-9]*/stat)
	cat -- "${files[@]}" 2>/dev/null | awk -v p="$1" '{
		s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
		if (f[1] == "Z" && f[2] == p) print $1 }'
}

# kids_of PID: live children of PID, with their command names.
kids_of() {
	local files=(/proc/[0-9]*/stat)
	cat -- "${files[@]}" 2>/dev/null | awk -v p="$1" '{
		s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
		c = $0; sub(/^[^(]*\(/, "", c); sub(/\) [^)]*$/, "", c)
		if (f[2] == p && f[1] != "Z") print $1, c }'
}

# expect_status N
expect_status() {
	if [ "$status" != "$1" ]; then
		echo "cancelrun exited $status, expected $1" >&2
		cr_stderr
		show_tree
		return 1
	fi
}

# drive MODE TIMEOUT CHECK [ARGS...]: run $TMP/cmd under cancelrun with
# ARGS, wait for $TMP/ready, run the CHECK function (the tree is really
# up), then cancel: MODE "timeout" lets the deadline TIMEOUT fire, "TERM"
# and "INT" send that signal to cancelrun (a 20 s deadline stays as a
# backstop, so a lost signal shows as 124 instead of a hang).  Asserts the
# status and that nothing is left.
drive() {
	local mode=$1 t=$2 check=$3 want
	shift 3
	case $mode in
	timeout) want=124 ;;
	TERM) want=143 t=20s ;;
	INT) want=130 t=20s ;;
	esac
	cr_start -t "$t" -g 1s -- bash "$TMP/cmd" "$MARK" "$TMP" "$@"
	if ! wait_file "$TMP/ready"; then
		echo "the command never became ready" >&2
		cr_stderr
		return 1
	fi
	"$check"
	still_running
	[ "$mode" = timeout ] || kill -s "$mode" "$CR_PID"
	cr_wait
	expect_status "$want"
	assert_none_left
}

# --- the cases --------------------------------------------------------------

ignores_term() {
	cat > "$TMP/cmd" <<'EOF'
trap '' TERM
echo $$ > "$2/main"
echo up > "$2/ready"
while :; do sleep 0.1; done
EOF
}

check_ignores_term() {
	local main
	main=$(cat "$TMP/main")
	alive "$main"
	ignores_sig "$main" 15
}

@test "timeout: a command that ignores TERM is ended by KILL" {
	ignores_term
	drive timeout 1s check_ignores_term
}

@test "TERM to cancelrun: a command that ignores TERM is ended by KILL" {
	ignores_term
	drive TERM - check_ignores_term
}

grandchildren() {
	cat > "$TMP/cmd" <<'EOF'
(exec -a "$1-s" sleep 1000) &
(exec -a "$1-s" sleep 1000) &
( (exec -a "$1-s" sleep 1000) & wait ) &
( (exec -a "$1-s" sleep 1000) & )
echo up > "$2/ready"
wait
EOF
}

check_grandchildren() {
	wait_for count_is "$MARK-s" 4
}

@test "timeout: background children and grandchildren" {
	grandchildren
	drive timeout 1s check_grandchildren
}

@test "INT to cancelrun: background children and grandchildren" {
	grandchildren
	drive INT - check_grandchildren
}

nested() {
	cat > "$TMP/cmd" <<'EOF'
if [ "$3" -gt 1 ]; then
	bash "$0" "$1" "$2" $(($3 - 1)) &
	wait
else
	(exec -a "$1-s" sleep 1000) &
	echo up > "$2/ready"
	wait
fi
EOF
}

check_nested() {
	wait_for count_is "$TMP/cmd" 20
	wait_for count_is "$MARK-s" 1
}

@test "timeout: a chain of 20 nested shells" {
	nested
	drive timeout 2s check_nested 20
}

@test "TERM to cancelrun: a chain of 20 nested shells" {
	nested
	drive TERM - check_nested 20
}

sleepers() {
	cat > "$TMP/cmd" <<'EOF'
for i in 1 2 3 4 5 6 7 8 9 10; do
	(
		for j in $(seq 20); do
			(exec -a "$1-s" sleep 1000) &
		done
		wait
	) &
done
echo up > "$2/ready"
wait
EOF
}

check_sleepers() {
	if ! wait_for count_is "$MARK-s" 200; then
		echo "only $(count_args "$MARK-s") sleepers came up" >&2
		return 1
	fi
}

@test "timeout: 200 sleeping processes spread over sub-shells" {
	sleepers
	drive timeout 4s check_sleepers
}

@test "INT to cancelrun: 200 sleeping processes spread over sub-shells" {
	sleepers
	drive INT - check_sleepers
}

setsid_gc() {
	cat > "$TMP/cmd" <<'EOF'
setsid bash -c 'echo $$ > "$2/gc1"; exec -a "$1-s" sleep 1000' x "$1" "$2" &
(setsid bash -c 'echo $$ > "$2/gc2"; (exec -a "$1-s" sleep 1000) & wait' \
    x "$1" "$2" & wait) &
while [ ! -s "$2/gc1" ] || [ ! -s "$2/gc2" ]; do sleep 0.01; done
echo $$ > "$2/main"
echo up > "$2/ready"
exec -a "$1-main" sleep 1000
EOF
}

check_setsid_gc() {
	local main gc1 gc2
	wait_for count_is "$MARK-s" 2
	main=$(cat "$TMP/main") gc1=$(cat "$TMP/gc1") gc2=$(cat "$TMP/gc2")
	# Both really left the command's session and process group.
	[ "$(stat_field "$gc1" 4)" = "$gc1" ]
	[ "$(stat_field "$gc2" 4)" = "$gc2" ]
	[ "$(stat_field "$main" 4)" != "$gc1" ]
	[ "$(stat_field "$main" 3)" != "$(stat_field "$gc1" 3)" ]
}

@test "timeout: grandchildren that call setsid" {
	setsid_gc
	drive timeout 1s check_setsid_gc
}

@test "TERM to cancelrun: grandchildren that call setsid" {
	setsid_gc
	drive TERM - check_setsid_gc
}

daemons() {
	# d1: plain double fork; d2: a classic daemon (fork, setsid, fork,
	# cd /, stdio to /dev/null).  Both are orphaned and re-parented.
	cat > "$TMP/cmd" <<'EOF'
( (exec -a "$1-s" sleep 1000) & echo $! > "$2/d1" )
( setsid bash -c '( cd /; exec </dev/null >/dev/null 2>&1
	exec -a "$1-s" sleep 1000 ) & echo $! > "$2/d2"' x "$1" "$2" & )
while [ ! -s "$2/d2" ]; do sleep 0.01; done
echo $$ > "$2/main"
echo up > "$2/ready"
exec -a "$1-main" sleep 1000
EOF
}

# reparented PID MAIN: PID's parent is no longer MAIN nor any process of
# the job other than cancelrun (its parent exited and it was re-parented).
reparented() {
	local pp
	pp=$(stat_field "$1" 2) || return 1
	[ "$pp" != "$2" ] || return 1
	[ "$pp" = "$CR_PID" ] && return 0
	not grep -qaF -- "$MARK" "/proc/$pp/cmdline" "/proc/$pp/environ" \
	    2>/dev/null
}

check_daemons() {
	local main d
	wait_for count_is "$MARK-s" 2
	main=$(cat "$TMP/main")
	for d in $(cat "$TMP/d1" "$TMP/d2"); do
		alive "$d"
		wait_for reparented "$d" "$main"
	done
	[ "$(stat_field "$(cat "$TMP/d2")" 4)" != "$(stat_field "$main" 4)" ]
}

@test "timeout: double-fork daemons re-parented away from the command" {
	daemons
	drive timeout 1s check_daemons
}

@test "INT to cancelrun: double-fork daemons re-parented away from the command" {
	daemons
	drive INT - check_daemons
}

envdaemon() {
	cat > "$TMP/cmd" <<'EOF'
( setsid env -i bash -c 'echo $$ > "$1/d"; cd /
	exec </dev/null >/dev/null 2>&1
	exec -a "$0-s" sleep 1000' "$1" "$2" & )
while [ ! -s "$2/d" ]; do sleep 0.01; done
echo $$ > "$2/main"
echo up > "$2/ready"
exec -a "$1-main" sleep 1000
EOF
}

check_envdaemon() {
	local d
	wait_for count_is "$MARK-s" 1
	d=$(cat "$TMP/d")
	alive "$d"
	# nothing in its environment: only its argv carries the mark
	[ ! -s "/proc/$d/environ" ]
	[ "$(stat_field "$d" 4)" = "$d" ]
}

@test "timeout: a re-parented setsid daemon with an empty environment" {
	envdaemon
	drive timeout 1s check_envdaemon
}

@test "TERM to cancelrun: a re-parented setsid daemon with an empty environment" {
	envdaemon
	drive TERM - check_envdaemon
}

hupterm() {
	# The command's child (named -p) dies on TERM; its child (-g) ignores
	# TERM and HUP, so it is orphaned when its parent dies and only KILL
	# ends it.
	cat > "$TMP/cmd" <<'EOF'
bash -c '
	( trap "" TERM HUP; echo $BASHPID > "$2/gc"
	  exec -a "$1-g" sleep 1000 ) &
	exec -a "$1-p" sleep 1000' x "$1" "$2" &
echo $! > "$2/p"
while [ ! -s "$2/gc" ]; do sleep 0.01; done
echo up > "$2/ready"
exec -a "$1-main" sleep 1000
EOF
}

check_hupterm() {
	local gc p
	wait_for count_is "$MARK-g" 1
	wait_for count_is "$MARK-p" 1
	gc=$(cat "$TMP/gc") p=$(cat "$TMP/p")
	ignores_sig "$gc" 15
	ignores_sig "$gc" 1
	if ignores_sig "$p" 15; then
		echo "the parent ignores TERM too" >&2
		return 1
	fi
}

@test "timeout: a grandchild ignores TERM and HUP while its parent dies on TERM" {
	hupterm
	drive timeout 1s check_hupterm
}

@test "INT to cancelrun: a grandchild ignores TERM and HUP while its parent dies on TERM" {
	hupterm
	drive INT - check_hupterm
}

stopped() {
	cat > "$TMP/cmd" <<'EOF'
(exec -a "$1-s" sleep 1000) &
echo $! > "$2/gc"
kill -STOP $!
echo $$ > "$2/main"
echo up > "$2/ready"
kill -STOP $$
exec -a "$1-main" sleep 1000
EOF
}

check_stopped() {
	local gc main
	gc=$(cat "$TMP/gc") main=$(cat "$TMP/main")
	wait_for state_is "$gc" T
	wait_for state_is "$main" T
}

@test "timeout: the command and a grandchild stopped with SIGSTOP" {
	stopped
	drive timeout 1s check_stopped
}

@test "TERM to cancelrun: the command and a grandchild stopped with SIGSTOP" {
	stopped
	drive TERM - check_stopped
}

closedio() {
	cat > "$TMP/cmd" <<'EOF'
(exec 0<&- 1>&- 2>&-; exec -a "$1-s" sleep 1000) &
echo $! > "$2/gc"
echo up > "$2/ready"
exec -a "$1-main" sleep 1000
EOF
}

check_closedio() {
	local gc
	gc=$(cat "$TMP/gc")
	wait_for count_is "$MARK-s" 1
	[ ! -e "/proc/$gc/fd/0" ] && [ ! -e "/proc/$gc/fd/1" ] &&
	    [ ! -e "/proc/$gc/fd/2" ]
}

@test "timeout: a grandchild that closed stdin, stdout and stderr" {
	closedio
	drive timeout 1s check_closedio
}

@test "INT to cancelrun: a grandchild that closed stdin, stdout and stderr" {
	closedio
	drive INT - check_closedio
}

graceful() {
	# An escaped daemon that handles TERM must be given the stop signal
	# (DESIGN: the stop sequence goes to the whole tree), not only KILL.
	cat > "$TMP/daemon" <<'EOF'
trap 'echo TERM > "$2/got"; exit 0' TERM
echo $$ > "$2/d"
while :; do sleep 0.1 & wait $!; done
EOF
	cat > "$TMP/cmd" <<'EOF'
( setsid bash "$2/daemon" "$1" "$2" & )
while [ ! -s "$2/d" ]; do sleep 0.01; done
echo up > "$2/ready"
exec -a "$1-main" sleep 1000
EOF
}

check_graceful() {
	alive "$(cat "$TMP/d")"
}

@test "timeout: an escaped daemon is sent the stop signal, not only KILL" {
	graceful
	drive timeout 1s check_graceful
	[ "$(cat "$TMP/got" 2>/dev/null)" = TERM ]
}

@test "TERM to cancelrun: an escaped daemon is sent the stop signal, not only KILL" {
	graceful
	drive TERM - check_graceful
	[ "$(cat "$TMP/got" 2>/dev/null)" = TERM ]
}

forkloop() {
	# Ignores TERM and keeps starting setsid'd, TERM-ignoring sleepers
	# while it is being stopped.  Rate-limited to stay far from pid_max.
	cat > "$TMP/cmd" <<'EOF'
trap '' TERM
n=0
while :; do
	( setsid bash -c 'exec -a "$1-s" sleep 1000' x "$1" & )
	n=$((n + 1))
	[ "$n" = 10 ] && echo up > "$2/ready"
	sleep 0.02
done
EOF
}

check_forkloop() {
	wait_for eval '[ "$(count_args "$MARK-s")" -ge 5 ]'
}

@test "timeout: a TERM-ignoring loop that keeps forking setsid'd sleepers" {
	forkloop
	drive timeout 1s check_forkloop
}

@test "TERM to cancelrun: a TERM-ignoring loop that keeps forking setsid'd sleepers" {
	forkloop
	drive TERM - check_forkloop
}

# --- --foreground ------------------------------------------------------------

@test "timeout with --foreground: descendants are still found and stopped" {
	# The command stays in cancelrun's process group; cancelrun runs in a
	# session of its own so that this group is not the test's.
	cat > "$TMP/cmd" <<'EOF'
(exec -a "$1-s" sleep 1000) &
setsid bash -c 'exec -a "$1-s" sleep 1000' x "$1" &
( (exec -a "$1-s" sleep 1000) & )
echo $$ > "$2/main"
echo up > "$2/ready"
exec -a "$1-main" sleep 1000
EOF
	CR_T0=${EPOCHREALTIME/./}
	start_bg setsid env --default-signal=INT CR_TEST_MARK="$MARK" \
	    "$CANCELRUN" --foreground -t 1s -g 1s -- \
	    bash "$TMP/cmd" "$MARK" "$TMP"
	CR_PID=$BG_PID
	wait_file "$TMP/ready"
	wait_for count_is "$MARK-s" 3
	[ "$(stat_field "$(cat "$TMP/main")" 3)" = "$(stat_field "$CR_PID" 3)" ]
	still_running
	cr_wait
	expect_status 124
	assert_none_left
}

# --- start-up --------------------------------------------------------------
#
# The moment a signal lands is aimed at by a small bash script ($TMP/racer)
# that starts cancelrun, spins on /proc until cancelrun reaches a stage of
# its start-up, sends the signal and reports how cancelrun ended.  It runs
# outside bats because bats's DEBUG trap makes a spin loop in the test
# itself far too slow to hit anything.

write_racer() {
	cat > "$TMP/racer" <<'EOF'
# racer CANCELRUN MARK MODE SIG DEFAULT_INT: start `cancelrun -t 20s -g 1s
# -- sleep 1000` in the background (so with INT ignored unless DEFAULT_INT
# is 1), send SIG when it reaches stage MODE, and print "status N" or
# "lost" (still running 5 s later; it is then killed).  Stages: 0 right
# after cancelrun's exec; 1 once it has forked; 2 once the child has
# exec'd the command; 3 a random 0 to 3 ms after cancelrun's exec; 4 a
# random 0 to 3 ms after cancelrun holds INT (blocked: the first thing it
# does; before that, while the loader runs, the kernel drops an ignored
# signal in any program); 5 a moment after the command is running.
cr=$1 mark=$2 mode=$3 sig=$4
crcomm=${cr##*/}
crcomm=${crcomm:0:15}
if [ "$5" = 1 ]; then
	env --default-signal=INT CR_TEST_MARK="$mark" \
	    "$cr" -t 20s -g 1s -- sleep 1000 >/dev/null 2>&1 &
else
	env CR_TEST_MARK="$mark" "$cr" -t 20s -g 1s -- sleep 1000 \
	    >/dev/null 2>&1 &
fi
pid=$!
# blocked: cancelrun holds INT: blocked (from before main until its
# handler is in place) or caught (after that); bit 2 of SigBlk or SigCgt.
blocked() {
	local line
	while read -r line; do
		case $line in
		SigBlk:*|SigCgt:*)
			line=${line#Sig???:}
			(( 0x${line//[[:space:]]/} & 2 )) && return 0 ;;
		esac
	done < "/proc/$pid/status" 2>/dev/null
	return 1
}
stage() {
	local c t x kids k n i
	for ((i = 0; i < 200000; i++)); do
		{ read -r c < "/proc/$pid/comm"; } 2>/dev/null || return 0
		[ "$c" = "$crcomm" ] || continue
		case $mode in
		0)
			return 0 ;;
		3)
			n=$((RANDOM % 1500))
			for ((k = 0; k < n; k++)); do :; done
			return 0 ;;
		4)
			blocked || continue
			n=$((RANDOM % 1500))
			for ((k = 0; k < n; k++)); do :; done
			return 0 ;;
		esac
		kids=
		for t in /proc/"$pid"/task/*/children; do
			x=
			{ read -r x < "$t"; } 2>/dev/null || true
			kids="$kids $x"
		done
		for k in $kids; do
			[ "$mode" = 1 ] && return 0
			{ read -r c < "/proc/$k/comm"; } 2>/dev/null || continue
			[ "$c" != "$crcomm" ] && return 0
		done
	done
}
stage
[ "$mode" = 5 ] && sleep 0.2
kill -s "$sig" "$pid" 2>/dev/null
for ((i = 0; i < 500; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	{ read -r line < "/proc/$pid/stat"; } 2>/dev/null || break
	line=${line##*) }
	[ "${line%% *}" = Z ] && break
	sleep 0.01
done
if kill -0 "$pid" 2>/dev/null && [ "${line%% *}" != Z ]; then
	echo lost
	kill -KILL "$pid"
	wait "$pid"
	exit 0
fi
wait "$pid"
echo "status $?"
EOF
}

# race ROUND MODE SIG WANT DEFAULT_INT: one round; fails, saying which, if
# the signal was lost, the status is not WANT or anything is left.
race() {
	local out j left
	out=$(bash "$TMP/racer" "$CANCELRUN" "$MARK" "$2" "$3" "$5")
	if [ "$out" != "status $4" ]; then
		echo "$1 (stage $2, $3): expected status $4, got: $out" >&2
		[ "$out" != lost ] ||
		    echo "  (cancelrun was still running 5 s after $3)" >&2
		show_tree
		return 1
	fi
	for j in $(seq 20); do
		left=$(live_marked)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "$1 (stage $2, $3): left running:" >&2
	assert_none_left
}

@test "a TERM or INT reaching cancelrun during start-up is never lost" {
	local i mode
	write_racer
	for i in $(seq 0 23); do
		mode=$((i / 2 % 4))
		if [ $((i % 2)) = 0 ]; then
			race "round $i" "$mode" TERM 143 1
		else
			race "round $i" "$mode" INT 130 1
		fi
	done
	assert_none_left
}

@test "INT cancels even when cancelrun inherited INT ignored" {
	# `cancelrun ... &` in a script starts it with INT at SIG_IGN (as
	# here: the racer runs it without env --default-signal); INT sent
	# once the command runs must still cancel.  (An INT that reaches it
	# in the first milliseconds after its exec, before it takes INT over,
	# is dropped by the kernel; part of that, between execve and main,
	# cannot be closed by any program, so it is not tested.)
	write_racer
	start_bg sleep 30
	ignores_sig "$BG_PID" 2 ||
	    skip "background jobs do not start with INT ignored here"
	kill "$BG_PID"
	race "INT once the command runs" 5 INT 130 0
	assert_none_left
}

@test "an INT during start-up is not lost when cancelrun inherited INT ignored" {
	# Sent 0 to 3 ms after cancelrun has blocked INT (before main): from
	# there on it is held pending until the supervisor's handler takes
	# it, and the command must never be left running.
	local i
	write_racer
	start_bg sleep 30
	ignores_sig "$BG_PID" 2 ||
	    skip "background jobs do not start with INT ignored here"
	kill "$BG_PID"
	for i in $(seq 1 24); do
		race "round $i" 4 INT 130 0
	done
	assert_none_left
}

# --- leftovers ---------------------------------------------------------------

@test "leftovers (default kill): a background sleeper is stopped, status is the command's" {
	cr_start -g 1s -- sh -c 'sleep 1000 & echo $! > "$1/s"; echo started' \
	    "$MARK" "$TMP"
	cr_wait
	expect_status 0
	[ "$(cat "$TMP/out")" = started ]
	[ -s "$TMP/s" ]
	[ "$CR_MS" -lt 5000 ] || { echo "took $CR_MS ms" >&2; false; }
	assert_none_left
}

@test "leftovers (default kill): hard leftovers are stopped, status 3 is kept" {
	# a TERM-ignoring sleeper, a setsid'd daemon, one with stdio closed
	# and one stopped; the command exits 3 once all four are running
	cat > "$TMP/cmd" <<'EOF'
( trap '' TERM; echo $BASHPID > "$2/l1"; exec -a "$1-s" sleep 1000 ) &
( setsid bash -c '( cd /; echo $BASHPID > "$2/l2"
	exec </dev/null >/dev/null 2>&1
	exec -a "$1-s" sleep 1000 ) &' x "$1" "$2" & )
( (exec 0<&- 1>&- 2>&-; echo $BASHPID > "$2/l3"
   exec -a "$1-s" sleep 1000) & )
( (echo $BASHPID > "$2/l4"; kill -STOP $BASHPID
   exec -a "$1-s" sleep 1000) & )
while [ ! -s "$2/l1" ] || [ ! -s "$2/l2" ] || [ ! -s "$2/l3" ] ||
    [ ! -s "$2/l4" ]; do
	sleep 0.01
done
echo up > "$2/ready"
exit 3
EOF
	cr_start -g 1s -- bash "$TMP/cmd" "$MARK" "$TMP"
	cr_wait
	expect_status 3
	[ -s "$TMP/ready" ]
	[ "$CR_MS" -lt 8000 ] || { echo "took $CR_MS ms" >&2; false; }
	assert_none_left
}

@test "leftovers (default kill): a TERM-ignoring fork loop left behind is stopped" {
	cat > "$TMP/cmd" <<'EOF'
( trap '' TERM; n=0
  while :; do
	( setsid bash -c 'exec -a "$1-s" sleep 1000' x "$1" & )
	n=$((n + 1))
	[ "$n" = 5 ] && echo up > "$2/ready"
	sleep 0.02
  done ) &
while [ ! -s "$2/ready" ]; do sleep 0.01; done
exit 0
EOF
	cr_start -g 1s -- bash "$TMP/cmd" "$MARK" "$TMP"
	cr_wait
	expect_status 0
	[ "$CR_MS" -lt 8000 ] || { echo "took $CR_MS ms" >&2; false; }
	assert_none_left
}

@test "leftovers: -v says how many were found and what was done" {
	cr_start -v -g 1s -- sh -c 'sleep 1000 & sleep 1000 & exit 0' "$MARK"
	cr_wait
	expect_status 0
	if ! grep -i 'leftover' "$TMP/err" | grep -qw 2; then
		echo "no line mentioning 2 leftover processes" >&2
		cr_stderr
		return 1
	fi
	assert_none_left
}

@test "leftovers=leave: cancelrun returns at once and the sleeper survives" {
	local s
	cr_start --leftovers=leave -g 1s -- \
	    sh -c 'sleep 1000 & echo $! > "$1/s"' "$MARK" "$TMP"
	cr_wait
	expect_status 0
	[ "$CR_MS" -lt 5000 ] || { echo "took $CR_MS ms" >&2; false; }
	s=$(cat "$TMP/s")
	alive "$s"
	[ "$(marked_pids)" = "$s" ]
	kill -KILL "$s"
	assert_none_left
}

@test "leftovers=wait: cancelrun waits for a leftover sleep, then returns 0" {
	local sh s
	cr_start --leftovers=wait -t 20s -g 1s -- sh -c 'echo $$ > "$1/sh"
		sleep 2 & echo $! > "$1/s"; echo up > "$1/ready"' "$MARK" "$TMP"
	wait_file "$TMP/ready"
	sh=$(cat "$TMP/sh") s=$(cat "$TMP/s")
	wait_for eval '! alive '"$sh"
	# the command has exited, its sleeper has not: cancelrun waits
	alive "$s"
	still_running
	# cancelrun may end only after the sleeper: between two looks the
	# sleeper can end and cancelrun follow it, so check in that order
	while alive "$s"; do
		alive "$CR_PID" || ! alive "$s" || still_running
		sleep 0.1
	done
	cr_wait
	expect_status 0
	assert_none_left
}

@test "leftovers=wait: a leftover that outlives the deadline is cancelled, 124" {
	cr_start --leftovers=wait -t 1s -g 1s -- sh -c \
	    '(trap "" TERM; exec sleep 1000) & echo $! > "$1/s"' "$MARK" "$TMP"
	cr_wait
	expect_status 124
	[ -s "$TMP/s" ]
	assert_none_left
}

# --- zombies -----------------------------------------------------------------

# no_lasting_zombies ROUNDS: sample cancelrun's zombie children ROUNDS
# times, 1 s apart; a zombie seen in two samples in a row has lived for a
# second.  Also counts orphans (sleep) seen re-parented to cancelrun.
no_lasting_zombies() {
	local r prev cur z
	ORPHANS_SEEN=0
	prev=$(zombies_of "$CR_PID")
	for ((r = 0; r < $1; r++)); do
		sleep 1
		alive "$CR_PID" || break
		ORPHANS_SEEN=$((ORPHANS_SEEN +
		    $(kids_of "$CR_PID" | awk '$2 == "sleep"' | wc -l)))
		cur=$(zombies_of "$CR_PID")
		for z in $cur; do
			if printf '%s\n' $prev | grep -qx "$z"; then
				echo "zombie $z of cancelrun lived over 1 s" >&2
				ps -o pid,ppid,stat,args -p "$z" >&2 || true
				return 1
			fi
		done
		prev=$cur
	done
}

@test "zombies: orphans that exit while the job runs are reaped promptly" {
	cr_start -t 20s -- sh -c 'i=0
		while [ $i -lt 60 ]; do
			(sleep 0.3 &); sleep 0.05; i=$((i + 1))
		done' "$MARK"
	no_lasting_zombies 2
	[ "$ORPHANS_SEEN" -gt 0 ] || {
		echo "no orphan was ever seen re-parented to cancelrun" >&2
		false
	}
	cr_wait
	expect_status 0
	assert_none_left
}

@test "zombies: after the command ended, exiting leftovers are reaped promptly" {
	# 30 orphans that end one by one over 3 s after the command exited
	cr_start --leftovers=wait -t 20s -- sh -c 'for i in $(seq 30); do
			(sleep "$((i / 10)).$((i % 10))" &)
		done; echo up > "$1/ready"' "$MARK" "$TMP"
	wait_file "$TMP/ready"
	sleep 0.3
	no_lasting_zombies 2
	[ "$ORPHANS_SEEN" -gt 0 ]
	cr_wait
	expect_status 0
	assert_none_left
}

@test "zombies: processes killed by the stop signal are reaped during the grace period" {
	cat > "$TMP/cmd" <<'EOF'
for i in $(seq 20); do ( (exec -a "$1-o" sleep 1000) & ); done
( trap '' TERM; exec -a "$1-i" sleep 1000 ) &
echo up > "$2/ready"
exec -a "$1-main" sleep 1000
EOF
	cr_start -t 1s -g 3s -- bash "$TMP/cmd" "$MARK" "$TMP"
	wait_file "$TMP/ready"
	wait_for count_is "$MARK-o" 20
	still_running
	# the deadline fires and TERM ends the 20 orphans; the -i sleeper
	# holds cancelrun in its grace period
	wait_for count_is "$MARK-o" 0
	sleep 0.5
	still_running
	local z1 z2
	z1=$(zombies_of "$CR_PID")
	sleep 1
	z2=$(zombies_of "$CR_PID")
	still_running
	for z in $z1; do
		if printf '%s\n' $z2 | grep -qx "$z"; then
			echo "zombie $z lived over 1 s in the grace period" >&2
			echo "zombies: $z2" >&2
			return 1
		fi
	done
	cr_wait
	expect_status 124
	assert_none_left
}

# --- -v ----------------------------------------------------------------------

@test "-v: says how many processes the stop signal reached" {
	cat > "$TMP/cmd" <<'EOF'
for i in 1 2 3; do
	( for j in $(seq 10); do (exec -a "$1-s" sleep 1000) & done; wait ) &
done
echo up > "$2/ready"
wait
EOF
	cr_start -v -t 1s -g 1s -- bash "$TMP/cmd" "$MARK" "$TMP"
	wait_file "$TMP/ready"
	wait_for count_is "$MARK-s" 30
	cr_wait
	expect_status 124
	assert_none_left
	if ! grep -oE '[0-9]+ process' "$TMP/err" |
	    awk '$1 >= 30 { ok = 1 } END { exit !ok }'; then
		echo "no -v line says the stop signal reached" \
		    ">= 30 processes" >&2
		cr_stderr
		return 1
	fi
}
