#!/usr/bin/env bats
#
# examples-c.bats - the C examples (examples/c/) build against the
# INSTALLED library with nothing but `pkg-config --cflags --libs
# cancelrun`, as an outside program would, and do what they say.
#
# setup_file installs the library, its header and its pkg-config file with
# DESTDIR into a directory of the build tree (so it works under
# `make distcheck`, whose source tree is read-only); pkg-config reads the
# installed cancelrun.pc with PKG_CONFIG_SYSROOT_DIR pointing there.  The
# programs run with LD_LIBRARY_PATH at the installed library.  The build's
# CFLAGS and LDFLAGS are passed on, so a sanitizer build builds them with
# the sanitizers too.

load helpers

: "${EX_BUILDDIR:?run from make check (EX_BUILDDIR)}"

setup_file() {
	export INST="$EX_BUILDDIR/tests/cli/examples-c.inst"
	rm -rf "$INST"
	mkdir -p "$INST"
	# Not the parent make's jobserver or flags: a make of its own.
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    $EX_MAKE -s -C "$EX_BUILDDIR" DESTDIR="$INST" \
	    install-libLTLIBRARIES install-includeHEADERS \
	    install-pkgconfigDATA > "$INST/install.log" 2>&1 || {
		cat "$INST/install.log" >&2
		return 1
	}
}

teardown_file() {
	rm -rf "$INST"
}

# pc ARGS...: pkg-config on the installed cancelrun.pc.
pc() {
	PKG_CONFIG_PATH="$INST$EX_PKGCONFIGDIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
	    PKG_CONFIG_SYSROOT_DIR="$INST" "$EX_PKG_CONFIG" "$@"
}

# build NAME: compiles examples/c/NAME.c into $TMP/NAME with only the
# flags pkg-config gives (and the build's own CFLAGS/LDFLAGS).
build() {
	local flags
	flags=$(pc --cflags --libs cancelrun)
	# shellcheck disable=SC2086
	$EX_CC $EX_CFLAGS -o "$TMP/$1" "$TOP_SRCDIR/examples/c/$1.c" \
	    $flags $EX_LDFLAGS
}

# run_example NAME ARGS...: runs it against the installed library, marked
# so that nothing it starts can outlive the test.
run_example() {
	local name=$1
	shift
	run env CR_TEST_MARK="$MARK" LD_LIBRARY_PATH="$INST$EX_LIBDIR" \
	    timeout 30 "$TMP/$name" "$@"
}

@test "pkg-config gives the installed header and library, and libev" {
	run pc --cflags --libs cancelrun
	[ "$status" -eq 0 ]
	[[ "$output" == *"-I$INST"* ]]
	[[ "$output" == *"-L$INST"* ]]
	[[ "$output" == *"-lcancelrun"* ]]
	[[ "$output" == *"-lev"* ]]
	[ -f "$INST$EX_LIBDIR/libcancelrun.so" ]
}

@test "pool: a worker pool with a shared deadline on a libev loop" {
	build pool
	# Deadline 0.3 s, 200 jobs of 0.05 s on 4 workers: it ends early.
	run_example pool 0.3 200 0.05
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^pool:\ ([0-9]+)\ of\ 200\ jobs\ done,\ ([0-9]+)\ stopped,\ ([0-9]+)\ not\ started:\ timeout:pool$ ]]
	# Some work was done, and the deadline stopped the rest.
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	[ "${BASH_REMATCH[1]}" -lt 200 ]
	[ "${BASH_REMATCH[3]}" -gt 0 ]
	no_survivors
}

@test "pool: without a deadline in reach every job is done" {
	build pool
	run_example pool 60 8 0.01
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "pool: 8 of 8 jobs done, 0 stopped, 0 not started" ]
}

@test "pollfd: a poll loop ends on the token's fd, with no libev loop" {
	build pollfd
	run_example pollfd 0.4
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^pollfd:\ read\ ([0-9]+)\ lines,\ then\ timeout:reader$ ]]
	[ "${BASH_REMATCH[1]}" -gt 0 ]
	no_survivors
}
