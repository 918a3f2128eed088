#!/usr/bin/env bats
#
# man3.bats - the section 3 pages of the token API: each is clean under
# `mandoc -Tlint` (but for the messages docs.bats leaves out too, which
# depend on the machine), every public cr_source_, cr_token_,
# cr_registration_ and cr_cause_ function and the blocking calls are named
# by a page, and `make install-data` installs each other name as a link to
# its page.

load helpers

: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"
: "${MANDOC:=mandoc}"

@test "the section 3 pages are mandoc -Tlint clean" {
	if [ "$MANDOC" = no ]; then
		skip "configure found no mandoc (MANDOC=no)"
	fi
	local page out
	for page in "$TOP_SRCDIR"/man/*.3; do
		out=$("$MANDOC" -Tlint "$page" 2>&1 |
		    grep -v -e 'outdated mandoc\.db' \
			-e 'referenced manual not found' || true)
		if [ -n "$out" ]; then
			echo "$out"
			return 1
		fi
	done
}

@test "every function of the token API is named by a page" {
	local fn missing=
	for fn in $(grep -oE '^[a-z].*\b(cr_(source|token|registration|cause)_[a-z_]+|cr_sleep|cr_poll|cr_waitpid|cr_now)\(' \
	    "$TOP_SRCDIR/lib/cancelrun.h" | grep -oE 'cr_[a-z_]+\($' |
	    tr -d '('); do
		grep -qE "^\.Nm $fn( ,)?\$" "$TOP_SRCDIR"/man/*.3 ||
		    missing="$missing $fn"
	done
	echo "no page names:$missing"
	[ -z "$missing" ]
}

@test "make install-data installs the pages and a link for each name" {
	: "${EX_BUILDDIR:?run from make check (EX_BUILDDIR)}"
	local inst="$EX_BUILDDIR/tests/cli/man3.inst" name page
	rm -rf "$inst"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    $EX_MAKE -s -C "$EX_BUILDDIR" DESTDIR="$inst" install-data \
	    > "$TMP/install.log" 2>&1 || { cat "$TMP/install.log"; return 1; }
	local man3
	man3=$(find "$inst" -type d -name man3 | head -n 1)
	[ -n "$man3" ]
	[ -f "$man3/cr_source_new.3" ]
	[ -f "$man3/cancelrun.3" ]
	# Every .Nm of every page is there, as the page or a link to it.
	for page in "$TOP_SRCDIR"/man/*.3; do
		for name in $(sed -n 's/^\.Nm \([a-z_]*\).*/\1/p' "$page" |
		    sort -u); do
			[ "$name" = libcancelrun ] && continue
			if ! cmp -s "$man3/$name.3" "$page"; then
				echo "$name.3 is not $(basename "$page")"
				rm -rf "$inst"
				return 1
			fi
		done
	done
	rm -rf "$inst"
}
