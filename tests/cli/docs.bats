#!/usr/bin/env bats
#
# docs.bats - the manual pages and the README say what the program does.
#
# The pages must pass `mandoc -Tlint` without a message about themselves;
# two kinds of message depend on the manuals installed on the machine,
# not on the page, and are left out: "outdated mandoc.db" and
# "referenced manual not found" (cancelrun.ini(5) is not installed while
# the tests run, and neither may timeout(1) be).  Skipped only when
# configure found no mandoc (MANDOC=no).

load helpers
bats_require_minimum_version 1.5.0

: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"
: "${MANDOC:=mandoc}"

need_mandoc() {
	if [ "$MANDOC" = no ]; then
		skip "configure found no mandoc (MANDOC=no)"
	fi
}

# lint PAGE: mandoc -Tlint messages about PAGE itself.
lint() {
	"$MANDOC" -Tlint "$1" 2>&1 |
	    grep -v -e 'outdated mandoc\.db' \
		-e 'referenced manual not found' || true
}

# rendered PAGE: the page as plain text, section headings at the start of
# a line and nothing else there.  Without mandoc, a rough rendering of the
# mdoc source does for the checks below.
rendered() {
	if [ "$MANDOC" = no ]; then
		sed -e 's/\\-/-/g' -e 's/Fl -/--/g' -e 's/Fl \([a-z]\)/-\1/g' \
		    -e 's/^\.Sh //' -e t -e 's/^/ /' "$1"
	else
		"$MANDOC" -Tascii "$1" | sed 's/.\x08//g'
	fi
}

@test "man/cancelrun.1 passes mandoc -Tlint" {
	need_mandoc
	local page="$TOP_SRCDIR/man/cancelrun.1"
	[ -s "$page" ]
	run lint "$page"
	echo "$output"
	[ -z "$output" ]
}

@test "man/cancelrun.ini.5 passes mandoc -Tlint" {
	need_mandoc
	local page="$TOP_SRCDIR/man/cancelrun.ini.5"
	[ -s "$page" ]
	run lint "$page"
	echo "$output"
	[ -z "$output" ]
}

@test "every long option of --help is in man/cancelrun.1" {
	local opt opts missing=
	run --separate-stderr "$CANCELRUN" --help
	[ "$status" -eq 0 ]
	opts="$(grep -oE -- '--[a-z][a-z-]*' <<<"$output" | sort -u)"
	echo "options in --help:" $opts
	# A --help that lists next to nothing proves nothing.
	[ "$(wc -w <<<"$opts")" -ge 10 ]
	rendered "$TOP_SRCDIR/man/cancelrun.1" >"$TMP/page"
	for opt in $opts; do
		grep -qE -- "(^|[^a-z-])$opt([^a-z-]|$)" "$TMP/page" ||
		    missing="$missing $opt"
	done
	echo "missing from the manual:$missing"
	[ -z "$missing" ]
}

@test "man/cancelrun.1 documents the exit statuses" {
	local n
	rendered "$TOP_SRCDIR/man/cancelrun.1" >"$TMP/page"
	grep -q '^EXIT STATUS' "$TMP/page"
	# The section, up to the next one.
	awk '/^EXIT STATUS/ { on = 1; next } /^[A-Z]/ { on = 0 } on' \
	    "$TMP/page" >"$TMP/section"
	for n in 124 125 126 127; do
		grep -qw "$n" "$TMP/section" || {
			echo "EXIT STATUS does not mention $n"
			return 1
		}
	done
}

@test "README.md has the exit status table" {
	local readme="$TOP_SRCDIR/README.md" n
	[ -s "$readme" ]
	for n in 124 125 126 127; do
		# A row of a Markdown table that mentions the status.
		grep -qE "^ *\|.*(^|[^0-9])$n([^0-9]|$)" "$readme" || {
			echo "README.md has no table row with $n"
			return 1
		}
	done
}
