#!/bin/sh
# bench/run.sh - cancelrun's benchmark suite: cancelrun side by side with
# the tools people use instead (GNU timeout, busybox timeout, xargs -P, GNU
# parallel) and with a physical floor (bench/floor.c, bench/floor-sup.c),
# in one run, the contenders alternating round by round.
#
#   bench/run.sh [BUILDDIR]        (make bench runs it with the build dir)
#
# Every figure is a median with the minimum and maximum over the rounds,
# and a ratio to its reference; the machine may be shared and noisy, so the
# ratios are the result.  The C programs are compiled with cc -O2 into a
# temporary directory (never into the source tree).  The table goes to
# standard output, to BUILDDIR/bench-results.md and, between the marker
# comments, into bench/README.md; every sample goes to
# BUILDDIR/bench-samples.txt.
#
# Environment: BENCH_QUICK=1 runs few rounds and small sizes, to try the
# suite itself (its table is not written into README.md); BENCH_ONLY=spawn
# runs only the spawn-throughput figure (nor is its table); BENCH_README=0
# leaves README.md alone; BENCH_KEEP=1 keeps the scratch directory (job
# files, logs); CC picks the compiler; TMPDIR the scratch space.
#
# Peers: hyperfine, parallel, busybox, strace and perf are looked for in
# PATH; when one is missing and we are root, "apt-get install -y" installs
# it, otherwise a "missing: X (apt-get install Y)" line is printed and only
# the rows that need it are skipped.  Every process the suite starts is
# started by bench/harness (which kills what a contender leaves, by PID) or
# waited for here; nothing is killed by name.
set -u

here=$(cd "$(dirname "$0")" && pwd)
builddir=$(cd "${1:-.}" && pwd) || exit 2
cr=$builddir/cancelrun
if [ ! -x "$cr" ]; then
	echo "bench: no cancelrun in $builddir (run make first)" >&2
	exit 2
fi
quick=${BENCH_QUICK:-0}
cc=${CC:-cc}

# Rounds and sizes.  The full run takes 3 to 4 minutes on 2 cores.
if [ "$quick" = 1 ]; then
	r_wall=20 r_late=5 r_sig=5 r_idle=1 idle_secs=2 r_rss=3
	n_many=200 r_many=2 r_ign=1 r_tput=2 tput_bytes=20971520
	n_small=50 r_small=2 n_big=1000 r_big=1 r_cross=20 r_pr=1
	n_spawn=200 r_spawn=2
else
	r_wall=200 r_late=60 r_sig=60 r_idle=2 idle_secs=5 r_rss=15
	n_many=1000 r_many=9 r_ign=5 r_tput=5 tput_bytes=209715200
	n_small=100 r_small=9 n_big=10000 r_big=3 r_cross=100 r_pr=2
	n_spawn=2000 r_spawn=3
fi
# BENCH_ONLY=spawn runs only the spawn-throughput figure (and writes no
# table into README.md): to measure that one alone on a busy machine.
only=${BENCH_ONLY:-}
deadline=0.1
grace=1

work=$(mktemp -d "${TMPDIR:-/tmp}/cancelrun-bench.XXXXXX") || exit 2
child=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$child" ]; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "bench: scratch files kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

log=$work/log
: >"$log"
samples=$builddir/bench-samples.txt
: >"$samples"
started=$(date +%s)

say() {
	printf '%s\n' "$*"
}

# Runs "$@" in the background and waits for it, so that a signal to this
# script reaches the trap (which stops it) at once.
run() {
	"$@" &
	child=$!
	wait "$child"
	rc=$?
	child=
	return "$rc"
}

# --- Peers -------------------------------------------------------------

apt_updated=0
# find_peer CMD PACKAGE: prints the path of CMD, installing PACKAGE first
# if it is missing and we may; prints nothing (and says so) if it stays
# missing.
find_peer() {
	if command -v "$1" >/dev/null 2>&1; then
		command -v "$1"
		return
	fi
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "bench: installing $2 (for $1)" >&2
		if [ "$apt_updated" = 0 ]; then
			DEBIAN_FRONTEND=noninteractive apt-get update \
			    >>"$log" 2>&1
			apt_updated=1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y "$2" \
		    >>"$log" 2>&1
		if command -v "$1" >/dev/null 2>&1; then
			command -v "$1"
			return
		fi
	fi
	say "missing: $1 (apt-get install $2)" >&2
}

timeout_bin=$(find_peer timeout coreutils)
xargs_bin=$(find_peer xargs findutils)
hyperfine_bin=$(find_peer hyperfine hyperfine)
parallel_bin=$(find_peer parallel parallel)
busybox_bin=$(find_peer busybox busybox)
strace_bin=$(find_peer strace strace)
perf_bin=$(find_peer perf linux-perf)
if [ -n "$perf_bin" ] &&
    ! "$perf_bin" stat -e task-clock -- true >/dev/null 2>&1; then
	say "missing: a working perf (perf stat fails here; see" \
	    "/proc/sys/kernel/perf_event_paranoid)" >&2
	perf_bin=
fi
# path_of NAME: the file NAME in PATH (not a shell builtin such as true).
path_of() {
	(
		IFS=:
		for pdir in $PATH; do
			if [ -f "$pdir/$1" ] && [ -x "$pdir/$1" ]; then
				say "$pdir/$1"
				exit 0
			fi
		done
		exit 1
	)
}
true_bin=$(path_of true)
sleep_bin=$(path_of sleep)
sh_bin=$(path_of sh)
cat_bin=$(path_of cat)
if [ -z "$timeout_bin" ] || [ -z "$xargs_bin" ]; then
	say "bench: GNU timeout and xargs are the references; cannot go on" >&2
	exit 2
fi

# --- The C programs ----------------------------------------------------

bin=$work/bin
mkdir "$bin"
# $cc is split on purpose: CC may be "ccache gcc".
# shellcheck disable=SC2086
for prog in harness floor floor-sup floor-par; do
	if ! $cc -O2 -Wall -o "$bin/$prog" "$here/$prog.c" >>"$log" 2>&1; then
		cat "$log" >&2
		say "bench: cannot compile $prog.c" >&2
		exit 2
	fi
done
# The commands under supervision are linked statically when possible, so
# that their own start-up and memory weigh as little as they can.
static=yes
# shellcheck disable=SC2086
for prog in mark stamp lines nop; do
	if ! $cc -O2 -Wall -static -o "$bin/$prog" "$here/$prog.c" \
	    >>"$log" 2>&1; then
		static=no
		if ! $cc -O2 -Wall -o "$bin/$prog" "$here/$prog.c" \
		    >>"$log" 2>&1; then
			cat "$log" >&2
			say "bench: cannot compile $prog.c" >&2
			exit 2
		fi
	fi
done
harness=$bin/harness
floor=$bin/floor
floor_sup=$bin/floor-sup
floor_par=$bin/floor-par
fifo=$work/fifo

# Processes and descriptors for 10,000 jobs (dash and bash have these).
# shellcheck disable=SC3045
ulimit -n "$(ulimit -Hn)" 2>/dev/null
# shellcheck disable=SC3045
ulimit -u unlimited 2>/dev/null

# --- Job files ---------------------------------------------------------

# jobs_file FILE N COMMAND [KEY=VALUE ...]: N jobs running COMMAND; the
# keys go to the [cancelrun] section.
jobs_file() {
	jf=$1 jn=$2 jcmd=$3
	shift 3
	{
		say "[cancelrun]"
		for kv in "$@"; do
			say "${kv%%=*} = ${kv#*=}"
		done
		ji=0
		while [ "$ji" -lt "$jn" ]; do
			say "[job:j$ji]"
			say "command = $jcmd"
			ji=$((ji + 1))
		done
	} >"$jf"
}

# list_file FILE N: N lines naming the FIFO, the input of xargs/parallel.
list_file() {
	awk -v n="$2" -v f="$fifo" 'BEGIN { for (i = 0; i < n; i++) print f }' \
	    >"$1"
}

# --- Measuring ---------------------------------------------------------

# measure NAME MODE [OPTIONS] -- CONTENDERS: runs the harness; its output
# goes to $work/NAME.out.
measure() {
	mname=$1 mmode=$2
	shift 2
	say "bench: $mname ..." >&2
	run "$harness" "$mmode" -o "$samples.tmp" "$@" >"$work/$mname.out" \
	    2>>"$log"
	if [ -f "$samples.tmp" ]; then
		sed "s/^/$mname /" "$samples.tmp" >>"$samples"
		rm -f "$samples.tmp"
	fi
}

# get NAME METRIC LABEL FIELD: FIELD (n, med, min, max) of a result, or
# empty.
get() {
	awk -v m="$2" -v l="$3" -v f="$4" '
	    $1 == m && $2 == l && $3 > 0 {
		i = f == "n" ? 3 : f == "med" ? 4 : f == "min" ? 5 : 6
		print $i
	    }' "$work/$1.out" 2>/dev/null
}

# calc EXPR: awk arithmetic; empty if any operand is empty.
calc() {
	case " $* " in
	*"  "* | *"( "* | *" )"*) return ;;
	esac
	awk "BEGIN { print ($*) }"
}

table=$work/table.md
notes=$work/notes.md
: >"$table"
: >"$notes"

# row FIGURE NAME METRIC LABEL SHOWN FORMAT REF TARGET VERDICT: one line of
# the table.  REF is the label whose median is the denominator of the
# ratio ("" for none); VERDICT is met, MISSED or empty.
row() {
	rfig=$1 rname=$2 rmetric=$3 rlabel=$4 rshown=$5 rfmt=$6 rref=$7
	rtarget=$8 rverdict=$9
	rmed=$(get "$rname" "$rmetric" "$rlabel" med)
	if [ -z "$rmed" ]; then
		say "| $rfig | $rshown | - | - | - | - | $rtarget | ${rverdict:-skipped} |" \
		    >>"$table"
		return
	fi
	rmin=$(get "$rname" "$rmetric" "$rlabel" min)
	rmax=$(get "$rname" "$rmetric" "$rlabel" max)
	rn=$(get "$rname" "$rmetric" "$rlabel" n)
	rratio=-
	if [ -n "$rref" ]; then
		rden=$(get "$rname" "$rmetric" "$rref" med)
		if [ -n "$rden" ] && [ "$(calc "$rden != 0")" = 1 ]; then
			rratio=$(awk -v a="$rmed" -v b="$rden" \
			    'BEGIN { printf "%.2f", a / b }')
		fi
	fi
	awk -v fig="$rfig" -v who="$rshown" -v fmt="$rfmt" -v med="$rmed" \
	    -v min="$rmin" -v max="$rmax" -v n="$rn" -v ratio="$rratio" \
	    -v target="$rtarget" -v verdict="$rverdict" '
	    function show(v) { return v == "-" ? "-" : sprintf(fmt, v) }
	    BEGIN {
		printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", fig,
		    who " (n=" n ")", show(med), show(min), show(max), ratio,
		    target, verdict
	    }' >>"$table"
}

# verdict CONDITION: "met" or "MISSED" (empty if it cannot be decided).
verdict() {
	vv=$(calc "$*")
	case $vv in
	1) say met ;;
	0) say MISSED ;;
	esac
}

# notes_of NAME: the harness's remarks on a figure, as footnotes.
notes_of() {
	awk -v fig="$1" '$1 == "note" {
		$1 = ""
		sub(/^ /, "")
		label = $1
		$1 = ""
		sub(/^ /, "")
		print "- " fig ", " label ": " $0
	    }' "$work/$1.out" >>"$notes" 2>/dev/null
}

# 0. Spawn throughput: N short jobs (/bin/true) through P slots, the wall
# time of the whole run; jobs/s is N over it.  GNU parallel takes tens of
# seconds for 2000 jobs, so it runs in the first round only.
list_file "$work/spawnlist" "$n_spawn"
for p in 2 64; do
	jobs_file "$work/spawn$p.ini" "$n_spawn" "'$true_bin'" \
	    max-parallel="$p"
	set -- floor "$floor_par" "$p" "$n_spawn" "$true_bin" \
	    ,, xargs "$xargs_bin" -d '\n' -a "$work/spawnlist" -P "$p" -n 1 \
	    "$true_bin" \
	    ,, cancelrun "$cr" -q -f "$work/spawn$p.ini" \
	    ,, cancelrun-raw "$cr" -q --output=raw -f "$work/spawn$p.ini"
	if [ -n "$parallel_bin" ]; then
		set -- "$@" ,, parallel@1 "$parallel_bin" --will-cite \
		    -j "$p" -a "$work/spawnlist" "$true_bin"
	fi
	measure "spawn$p" wall -r "$r_spawn" -s 600 -- "$@"
	# jobs/s from the wall times (us): the fastest run is the max.
	awk -v n="$n_spawn" '$1 == "wall" && $3 > 0 {
		printf "jobs %s %d %.1f %.1f %.1f\n", $2, $3, n * 1e6 / $4,
		    n * 1e6 / $6, n * 1e6 / $5
	    }' "$work/spawn$p.out" >>"$work/spawn$p.out.jobs"
	cat "$work/spawn$p.out.jobs" >>"$work/spawn$p.out"
done
if [ "$only" != spawn ]; then

# 1. Wrapper overhead: the wall time of one short command.
set -- true "$true_bin" ,, floor "$floor" "$true_bin" \
    ,, timeout "$timeout_bin" 10 "$true_bin" \
    ,, cancelrun "$cr" -t 10s -- "$true_bin"
if [ -n "$busybox_bin" ]; then
	set -- "$@" ,, busybox "$busybox_bin" timeout 10 "$true_bin"
fi
measure wall wall -r "$r_wall" -- "$@"

# 1b. Cross-checks of the same figure: hyperfine (not alternated: each
# command's runs in a row), CPU time and page faults of the wrapper alone
# (perf stat --no-inherit), system calls of the wrapper alone (strace -c).
if [ -n "$hyperfine_bin" ]; then
	say "bench: wall (hyperfine) ..." >&2
	run "$hyperfine_bin" -N --style none --warmup 10 --runs "$r_cross" \
	    --export-csv "$work/hf.csv" \
	    -n true "$true_bin" -n floor "$floor $true_bin" \
	    -n timeout "$timeout_bin 10 $true_bin" \
	    -n cancelrun "$cr -t 10s -- $true_bin" >>"$log" 2>&1
	# command,mean,stddev,median,user,system,min,max in seconds
	awk -F, -v r="$r_cross" 'NR > 1 {
		printf "hyperfine %s %d %.3f %.3f %.3f\n", $1, r, $4 * 1e6,
		    $7 * 1e6, $8 * 1e6
	    }' "$work/hf.csv" >"$work/hf.out" 2>/dev/null
fi
if [ -n "$perf_bin" ]; then
	say "bench: cpu (perf stat) ..." >&2
	: >"$work/perf.out"
	for who in floor timeout cancelrun; do
		case $who in
		floor) set -- "$floor" "$true_bin" ;;
		timeout) set -- "$timeout_bin" 10 "$true_bin" ;;
		cancelrun) set -- "$cr" -t 10s -- "$true_bin" ;;
		esac
		run "$perf_bin" stat -x, -i -r "$r_cross" \
		    -e task-clock,page-faults -o "$work/perf.$who" -- "$@" \
		    >/dev/null 2>>"$log"
		awk -F, -v who="$who" -v r="$r_cross" '
		    $3 ~ /^task-clock/ { v = $1 * 1000 }
		    $3 ~ /^page-faults/ { p = $1 }
		    END {
			printf "cpu %s %d %.3f - -\n", who, r, v
			printf "faults %s %d %.3f - -\n", who, r, p
		    }' "$work/perf.$who" >>"$work/perf.out"
	done
fi
if [ -n "$strace_bin" ]; then
	say "bench: syscalls (strace -c) ..." >&2
	: >"$work/strace.out"
	for who in floor timeout cancelrun; do
		case $who in
		floor) set -- "$floor" "$true_bin" ;;
		timeout) set -- "$timeout_bin" 10 "$true_bin" ;;
		cancelrun) set -- "$cr" -t 10s -- "$true_bin" ;;
		esac
		run "$strace_bin" -c -o "$work/strace.$who" -- "$@" \
		    >/dev/null 2>>"$log"
		awk -v who="$who" '$NF == "total" {
			printf "calls %s 1 %d - -\n", who, $4
		    }' "$work/strace.$who" >>"$work/strace.out"
	done
fi

# 2. Deadline lateness: from start + deadline until the command has TERM.
measure late late -r "$r_late" -d "$deadline" -- \
    floor "$floor" -t "$deadline" "$bin/stamp" @OUT@ \
    ,, timeout "$timeout_bin" "$deadline" "$bin/stamp" @OUT@ \
    ,, cancelrun "$cr" -q -t "$deadline" -- "$bin/stamp" @OUT@

# 3. Signal latency: from TERM to the wrapper until its command has it.
measure sig sig -r "$r_sig" -- \
    floor "$floor" "$bin/stamp" @OUT@ @READY@ \
    ,, timeout "$timeout_bin" 1000 "$bin/stamp" @OUT@ @READY@ \
    ,, cancelrun "$cr" -q -t 1000s -- "$bin/stamp" @OUT@ @READY@

# 4. Idle cost while the command sleeps; all contenders at once.
jobs_file "$work/idle.ini" 1 "'$sleep_bin' 1000" timeout=1000s
set -- floor "$floor" -t 1000 "$sleep_bin" 1000 \
    ,, timeout "$timeout_bin" 1000 "$sleep_bin" 1000 \
    ,, cancelrun "$cr" -q -t 1000s -- "$sleep_bin" 1000 \
    ,, cancelrun-f "$cr" -q -f "$work/idle.ini" \
    ,, cancelrun-idle "$cr" -q -t 1000s --idle-timeout 1000s -- \
    "$sleep_bin" 1000
if [ -n "$busybox_bin" ]; then
	set -- "$@" ,, busybox "$busybox_bin" timeout 1000 "$sleep_bin" 1000
fi
if [ -n "$parallel_bin" ]; then
	set -- "$@" ,, parallel "$parallel_bin" --will-cite -j1 "$sleep_bin" \
	    ::: 1000
fi
measure idle idle -r "$r_idle" -s "$idle_secs" -- "$@"

# 5. Peak RSS of one command (a static no-op, so that the command never
# outweighs the wrapper).
jobs_file "$work/rss1.ini" 1 "'$bin/nop'"
set -- floor "$floor" "$bin/nop" \
    ,, timeout "$timeout_bin" 10 "$bin/nop" \
    ,, cancelrun "$cr" -t 10s -- "$bin/nop" \
    ,, cancelrun-f "$cr" -q -f "$work/rss1.ini"
if [ -n "$busybox_bin" ]; then
	set -- "$@" ,, busybox "$busybox_bin" timeout 10 "$bin/nop"
fi
measure rss rss -r "$r_rss" -- "$@"

# 6-8. Many jobs: start-up, cancel and peak RSS.  Each job writes a byte
# to the FIFO and sleeps; xargs is cancelled through its process group as
# Ctrl-C would, the others by TERM to their PID.  GNU parallel takes tens
# of seconds to start 1000 jobs, so it runs in the first round only.
many() {
	mn=$1 mrounds=$2 mname=$3
	shift 3
	jobs_file "$work/jobs$mn.ini" "$mn" "'$bin/mark' '$fifo'"
	set -- floor "$floor_sup" "$mn" "$bin/mark" "$fifo" \
	    ,, cancelrun "$cr" -q --output=raw -f "$work/jobs$mn.ini" "$@"
	measure "$mname" jobs -r "$mrounds" -n "$mn" -f "$fifo" -- "$@"
}
list_file "$work/list$n_many" "$n_many"
set -- ,, xargs=pgrp "$xargs_bin" -d '\n' -a "$work/list$n_many" \
    -P "$n_many" -n 1 "$bin/mark"
if [ -n "$parallel_bin" ]; then
	set -- "$@" ,, parallel@1 "$parallel_bin" --will-cite -u \
	    -j "$n_many" -a "$work/list$n_many" "$bin/mark"
fi
many "$n_many" "$r_many" many "$@"

# 7b. Cancel when the jobs ignore TERM: KILL after the grace period; the
# figure is the time beyond the grace period.
jobs_file "$work/ign.ini" "$n_many" "'$bin/mark' -i '$fifo'" grace="${grace}s"
measure ignore jobs -r "$r_ign" -n "$n_many" -f "$fifo" -g "$grace" -- \
    floor "$floor_sup" -g "$((grace * 1000))" "$n_many" "$bin/mark" -i \
    "$fifo" ,, cancelrun "$cr" -q --output=raw -f "$work/ign.ini"

# 9. Output carried with name prefixes: one job, and two jobs of half the
# size each, against cat behind a pipe and GNU parallel; and the job
# writing straight into the harness's pipe, with nothing between: the
# ceiling of any relay with this writer and this reader.
half=$((tput_bytes / 2))
jobs_file "$work/tput1.ini" 1 "'$bin/lines' $tput_bytes"
{
	say "[job:a]"
	say "command = '$bin/lines' $half"
	say "[job:b]"
	say "command = '$bin/lines' $half"
} >"$work/tput2.ini"
# shellcheck disable=SC2016 # the inner shell expands them
set -- direct "$bin/lines" "$tput_bytes" \
    ,, cat "$sh_bin" -c '"$0" "$1" | "$2"' "$bin/lines" "$tput_bytes" \
    "$cat_bin" \
    ,, cancelrun-1 "$cr" -q --output=prefix -f "$work/tput1.ini" \
    ,, cancelrun-1i "$cr" -q --output=prefix --idle-timeout 1h \
    -f "$work/tput1.ini" \
    ,, cancelrun-2 "$cr" -q --output=prefix -f "$work/tput2.ini"
if [ -n "$parallel_bin" ]; then
	set -- "$@" ,, parallel-1 "$parallel_bin" --will-cite --tag \
	    --line-buffer "$bin/lines" "$tput_bytes" ::: a \
	    ,, parallel-2 "$parallel_bin" --will-cite --tag --line-buffer -j2 \
	    "$bin/lines" "$half" ::: a b
fi
measure tput tput -r "$r_tput" -b "$tput_bytes" -- "$@"

# 10. Growth: the same with fewer and with more jobs.
many "$n_small" "$r_small" small
many "$n_big" "$r_big" big

# 11. Start-up with prefixed output: the big number of jobs with
# --output=prefix (two pipes each) against --output=raw, alternating.
# Each running job then holds two of cancelrun's descriptors, so the
# number is cut to what the descriptor limit allows (the row says it).
n_pr=$n_big
# shellcheck disable=SC3045
fd_max=$(ulimit -n)
if [ "$fd_max" != unlimited ] && [ $((2 * n_pr + 64)) -gt "$fd_max" ]; then
	n_pr=$(((fd_max - 64) / 2))
fi
jobs_file "$work/jobspr.ini" "$n_pr" "'$bin/mark' '$fifo'"
measure prefix jobs -r "$r_pr" -n "$n_pr" -f "$fifo" -- \
    raw "$cr" -q --output=raw -f "$work/jobspr.ini" \
    ,, prefix "$cr" -q --output=prefix -f "$work/jobspr.ini"

fi # BENCH_ONLY

# --- The table ---------------------------------------------------------

fmt_us="%.0f us"
fmt_ms="%.1f ms"
fmt_kib="%.0f KiB"

fmt_jps="%.0f jobs/s"
for p in 2 64; do
	f_sp=$(get "spawn$p" jobs floor med)
	x_sp=$(get "spawn$p" jobs xargs med)
	fig="spawn throughput: $n_spawn \`true\` jobs, $p at a time"
	row "$fig" "spawn$p" jobs floor "floor-par $p" "$fmt_jps" floor \
	    reference ""
	row "" "spawn$p" jobs xargs "xargs -P $p -n 1" "$fmt_jps" floor "" ""
	row "" "spawn$p" jobs parallel "GNU parallel -j $p" "$fmt_jps" floor \
	    "" ""
	for who in cancelrun cancelrun-raw; do
		c_sp=$(get "spawn$p" jobs "$who" med)
		case $who in
		cancelrun) shown="**cancelrun -f, max-parallel = $p**" ;;
		*) shown="**cancelrun -f --output=raw, max-parallel = $p**" ;;
		esac
		row "" "spawn$p" jobs "$who" "$shown" "$fmt_jps" floor \
		    ">= 0.9 x floor, >= 1.5 x xargs" \
		    "$(verdict "$c_sp >= 0.9 * $f_sp && $c_sp >= 1.5 * $x_sp")"
	done
done
if [ "$only" != spawn ]; then

t_wall=$(get wall wall timeout med)
c_wall=$(get wall wall cancelrun med)
row "wrapper overhead: wall time of one \`true\`" wall wall true "bare true" \
    "$fmt_us" timeout "" ""
row "" wall wall floor "floor" "$fmt_us" timeout "" ""
row "" wall wall timeout "GNU timeout 10 true" "$fmt_us" timeout "reference" ""
row "" wall wall busybox "busybox timeout 10 true" "$fmt_us" timeout "" ""
row "" wall wall cancelrun "**cancelrun -t 10s -- true**" "$fmt_us" timeout \
    "<= 1.05 x GNU timeout" "$(verdict "$c_wall <= 1.05 * $t_wall")"
if [ -f "$work/hf.out" ]; then
	fig="cross-check: the same with hyperfine -N (not alternated)"
	for who in true floor timeout cancelrun; do
		row "$fig" hf hyperfine "$who" "$who" "$fmt_us" timeout "" ""
		fig=
	done
fi
if [ -f "$work/perf.out" ]; then
	fig="cross-check: CPU time of the wrapper alone (perf stat -i, mean)"
	for who in floor timeout cancelrun; do
		row "$fig" perf cpu "$who" "$who" "%.0f us" timeout "" ""
		fig=
	done
	fig="cross-check: page faults of the wrapper alone (perf stat -i, mean)"
	for who in floor timeout cancelrun; do
		row "$fig" perf faults "$who" "$who" "%.0f" timeout "" ""
		fig=
	done
fi
if [ -f "$work/strace.out" ]; then
	fig="cross-check: system calls of the wrapper alone (strace -c)"
	for who in floor timeout cancelrun; do
		row "$fig" strace calls "$who" "$who" "%.0f" timeout "" ""
		fig=
	done
fi

t_late=$(get late late timeout med)
c_late=$(get late late cancelrun med)
row "deadline lateness (deadline ${deadline}s, until the command has TERM)" \
    late late floor floor "$fmt_us" timeout "" ""
row "" late late timeout "GNU timeout" "$fmt_us" timeout reference ""
row "" late late cancelrun "**cancelrun**" "$fmt_us" timeout \
    "median <= GNU timeout's" "$(verdict "$c_late <= $t_late")"

t_sig=$(get sig sig timeout med)
c_sig=$(get sig sig cancelrun med)
row "signal latency (TERM to the wrapper, until the command has it)" sig sig \
    floor floor "$fmt_us" timeout "" ""
row "" sig sig timeout "GNU timeout" "$fmt_us" timeout reference ""
row "" sig sig cancelrun "**cancelrun**" "$fmt_us" timeout \
    "median <= GNU timeout's" "$(verdict "$c_sig <= $t_sig")"

fig="idle: wake-ups per second over ${idle_secs}s (command sleeping)"
for who in floor timeout busybox parallel cancelrun cancelrun-f \
    cancelrun-idle; do
	case $who in
	cancelrun-idle)
		shown="**cancelrun -t --idle-timeout** (output relayed)"
		v=$(verdict "$(get idle wakeups "$who" max) == 0")
		tgt="0 wake-ups"
		;;
	cancelrun)
		shown="**cancelrun -t**"
		v=$(verdict "$(get idle wakeups "$who" max) == 0")
		tgt="0 wake-ups"
		;;
	cancelrun-f)
		shown="**cancelrun -f (1 job)**"
		v=$(verdict "$(get idle wakeups "$who" max) == 0")
		tgt="0 wake-ups"
		;;
	*) shown=$who v='' tgt='' ;;
	esac
	row "$fig" idle wakeups "$who" "$shown" "%.2f/s" "" "$tgt" "$v"
	fig=
done
fig="idle: CPU per second"
for who in floor timeout busybox parallel cancelrun cancelrun-f \
    cancelrun-idle; do
	case $who in
	cancelrun | cancelrun-f | cancelrun-idle)
		shown="**$who**"
		v=$(verdict "$(get idle cpu "$who" max) == 0")
		tgt="0 CPU"
		;;
	*) shown=$who v='' tgt='' ;;
	esac
	row "$fig" idle cpu "$who" "$shown" "%.0f us/s" "" "$tgt" "$v"
	fig=
done

fig="idle: private memory (RssAnon) of the wrapper's own process"
for who in floor timeout parallel cancelrun cancelrun-f; do
	row "$fig" idle anon "$who" "$who" "$fmt_kib" timeout "" ""
	fig=
done

t_rss=$(get rss rss timeout med)
c_rss=$(get rss rss cancelrun med)
row "peak RSS, one command (a static no-op)" rss rss floor floor "$fmt_kib" \
    timeout "" ""
row "" rss rss timeout "GNU timeout" "$fmt_kib" timeout reference ""
row "" rss rss busybox "busybox timeout" "$fmt_kib" timeout "" ""
row "" rss rss cancelrun "**cancelrun -t**" "$fmt_kib" timeout \
    "<= GNU timeout" "$(verdict "$c_rss <= $t_rss")"
row "" rss rss cancelrun-f "cancelrun -f (1 job)" "$fmt_kib" timeout "" ""

f_start=$(get many start floor med)
c_start=$(get many start cancelrun med)
x_start=$(get many start xargs med)
p_start=$(get many start parallel med)
row "start-up of $n_many jobs (until all run)" many start floor "floor-sup" \
    "$fmt_ms" floor reference ""
row "" many start xargs "xargs -P $n_many" "$fmt_ms" floor "" ""
row "" many start parallel "GNU parallel -j $n_many -u" "$fmt_ms" floor "" ""
v=$(verdict "$c_start <= 1.2 * $f_start && $c_start < $x_start")
if [ -n "$p_start" ] && [ "$v" = met ]; then
	v=$(verdict "$c_start < $p_start")
fi
row "" many start cancelrun "**cancelrun -f --output=raw**" "$fmt_ms" floor \
    "<= 1.2 x floor, faster than both peers" "$v"

f_cancel=$(get many cancel floor med)
c_cancel=$(get many cancel cancelrun med)
row "cancel of $n_many running jobs (TERM until the tree is gone)" many cancel \
    floor "floor-sup" "$fmt_ms" floor reference ""
row "" many cancel xargs "xargs -P (TERM to its group)" "$fmt_ms" floor "" ""
row "" many cancel parallel "GNU parallel" "$fmt_ms" floor "" ""
row "" many cancel cancelrun "**cancelrun**" "$fmt_ms" floor \
    "<= 1.3 x floor" "$(verdict "$c_cancel <= 1.3 * $f_cancel")"
fi_cancel=$(get ignore cancel floor med)
ci_cancel=$(get ignore cancel cancelrun med)
row "  the same when the jobs ignore TERM: time beyond the ${grace}s grace" \
    ignore cancel floor "floor-sup -g" "$fmt_ms" floor reference ""
row "" ignore cancel cancelrun "**cancelrun (grace = ${grace}s)**" "$fmt_ms" \
    floor "grace + <= 1.3 x floor" \
    "$(verdict "$ci_cancel <= 1.3 * $fi_cancel")"

c_mrss=$(get many rss cancelrun med)
row "peak RSS with $n_many jobs" many rss floor "floor-sup" "$fmt_kib" "" "" ""
row "" many rss xargs "xargs -P" "$fmt_kib" "" "" ""
row "" many rss parallel "GNU parallel" "$fmt_kib" "" "" ""
row "" many rss cancelrun "**cancelrun**" "$fmt_kib" "" "<= 4096 KiB" \
    "$(verdict "$c_mrss <= 4096")"

cat_t=$(get tput tput cat med)
row "output with name prefixes, 100-byte lines, $((tput_bytes / 1048576)) MiB" \
    tput tput cat "cat behind a pipe" "%.0f MiB/s" cat reference ""
row "" tput tput direct "no relay: the job straight into the pipe (ceiling)" \
    "%.0f MiB/s" cat "" ""
row "" tput tput parallel-1 "GNU parallel --tag --line-buffer, 1 job" \
    "%.0f MiB/s" cat "" ""
row "" tput tput parallel-2 "GNU parallel --tag --line-buffer, 2 jobs" \
    "%.0f MiB/s" cat "" ""
for k in 1 2; do
	c_t=$(get tput tput "cancelrun-$k" med)
	p_t=$(get tput tput "parallel-$k" med)
	v=$(verdict "$c_t >= 1.5 * $cat_t")
	if [ -n "$p_t" ] && [ "$v" = met ]; then
		v=$(verdict "$c_t > $p_t")
	fi
	row "" tput tput "cancelrun-$k" "**cancelrun -f, $k job(s), prefixed**" \
	    "%.0f MiB/s" cat ">= 1.5 x cat, faster than parallel" "$v"
done
c_t=$(get tput tput cancelrun-1 med)
c_ti=$(get tput tput cancelrun-1i med)
row "" tput tput cancelrun-1i \
    "**cancelrun -f, 1 job, prefixed, --idle-timeout 1h**" "%.0f MiB/s" \
    cancelrun-1 ">= 0.95 x the same without" \
    "$(verdict "$c_ti >= 0.95 * $c_t")"

r_raw=$(get prefix start raw med)
r_pre=$(get prefix start prefix med)
row "prefix vs raw start-up at $n_pr jobs (until all run)" prefix start raw \
    "cancelrun -f --output=raw" "$fmt_ms" raw reference ""
row "" prefix start prefix "**cancelrun -f --output=prefix**" "$fmt_ms" raw \
    "<= 1.2 x raw" "$(verdict "$r_pre <= 1.2 * $r_raw")"

# Growth: per job, and cancelrun against the floor at each size; linear
# means the ratio to the floor (which has its own kernel costs) and the
# memory per job do not grow with the number of jobs.
for m in start cancel; do
	for sz in small many big; do
		case $sz in
		small) n=$n_small ;;
		many) n=$n_many ;;
		big) n=$n_big ;;
		esac
		row "growth: $m, $n jobs" "$sz" "$m" floor "floor-sup" \
		    "$fmt_ms" floor reference ""
		v=
		if [ "$sz" = big ]; then
			rs=$(calc "$(get small "$m" cancelrun med) / $(get small "$m" floor med)")
			rb=$(calc "$(get big "$m" cancelrun med) / $(get big "$m" floor med)")
			v=$(verdict "$rb <= 1.5 * $rs")
		fi
		row "" "$sz" "$m" cancelrun "**cancelrun**" "$fmt_ms" floor \
		    "${v:+ratio to floor does not grow}" "$v"
	done
done
rs=$(get small rss cancelrun med)
rm_=$(get many rss cancelrun med)
rb=$(get big rss cancelrun med)
for sz in small many big; do
	case $sz in
	small) n=$n_small ;;
	many) n=$n_many ;;
	big) n=$n_big ;;
	esac
	v='' tgt=''
	if [ "$sz" = big ]; then
		tgt="KiB per job does not grow"
		per_big="($rb - $rm_) / ($n_big - $n_many)"
		per_many="($rm_ - $rs) / ($n_many - $n_small)"
		v=$(verdict "$per_big <= 1.5 * $per_many")
	fi
	row "growth: peak RSS, $n jobs" "$sz" rss cancelrun "**cancelrun**" \
	    "$fmt_kib" "" "$tgt" "$v"
done
if [ -n "$(get big start cancelrun med)" ]; then
	works=met
else
	works=MISSED
fi
say "| growth: $n_big jobs work | cancelrun | - | - | - | - | works" \
    "| $works |" >>"$table"

fi # BENCH_ONLY

for f in spawn2 spawn64 wall late sig idle rss many ignore tput small big prefix; do
	notes_of "$f"
done

# --- Report ------------------------------------------------------------

ended=$(date +%s)
if [ -n "${MAKELEVEL:-}" ]; then
	how="make bench"
else
	how="bench/run.sh $builddir"
fi
if [ "$quick" = 1 ]; then
	how="BENCH_QUICK=1 $how"
fi
version() {
	if [ -n "$1" ]; then
		"$@" 2>&1 | head -n 1
	else
		say "missing"
	fi
}
report=$work/report.md
{
	say "Produced by \`$how\` on $(date -u '+%Y-%m-%d %H:%M UTC') in" \
	    "$((ended - started)) s."
	say
	say "Machine: $(nproc) cores," \
	    "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
	    "Linux $(uname -r); load average at the end:" \
	    "$(cut -d' ' -f1-3 /proc/loadavg).  Commands under supervision" \
	    "linked statically: $static."
	say
	say "Versions: $(version "$cr" --version);" \
	    "$(version "$timeout_bin" --version);" \
	    "$(version "$xargs_bin" --version);" \
	    "$(version "${parallel_bin:-}" --version);" \
	    "$(version "${busybox_bin:-}" | cut -d' ' -f1-2);" \
	    "$(version "${hyperfine_bin:-}" --version);" \
	    "$(version "${strace_bin:-}" -V);" \
	    "$(version "${perf_bin:-}" --version)."
	say
	say "| figure | contender | median | min | max | ratio | target | verdict |"
	say "| --- | --- | --- | --- | --- | --- | --- | --- |"
	cat "$table"
	if [ -s "$notes" ]; then
		say
		say "Notes from the harness:"
		say
		cat "$notes"
	fi
} >"$report"

cp "$report" "$builddir/bench-results.md"
cat "$report"

readme=$here/README.md
begin='<!-- bench:results:begin -->'
end='<!-- bench:results:end -->'
if [ "$quick" != 1 ] && [ -z "$only" ] && [ "${BENCH_README:-1}" != 0 ] &&
    [ -w "$readme" ] &&
    grep -q "^$begin" "$readme" && grep -q "^$end" "$readme"; then
	awk -v b="$begin" -v e="$end" -v f="$report" '
	    $0 == b { print; while ((getline l < f) > 0) print l; skip = 1;
		next }
	    $0 == e { skip = 0 }
	    !skip { print }' "$readme" >"$work/README.md" &&
	    cat "$work/README.md" >"$readme"
	say "bench: the table is in $readme" >&2
fi
missed=$(grep -c '| MISSED |' "$table")
say "bench: $(grep -c '| met |' "$table") targets met, $missed missed;" \
    "samples in $samples" >&2
exit 0
