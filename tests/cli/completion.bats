#!/usr/bin/env bats
#
# completion.bats - issue 12, item 7: the shell completions.
#
# bash: completions/cancelrun.bash is sourced and its function called as
# bash's programmable completion would call it (COMP_WORDS, COMP_CWORD),
# with COMP_WORDS[0] the binary under test, whose --help it reads; the
# tests check COMPREPLY.  zsh: the file must list every long option of
# --help (checked without zsh), and, where zsh is installed, parse, load
# under compinit and offer the right words at the prompt of an interactive
# zsh on a pseudo-terminal (tests/cli/zshcomp.zsh); without zsh those two
# tests are skipped, saying so.

load helpers
bats_require_minimum_version 1.5.0

: "${TOP_SRCDIR:?TOP_SRCDIR must point at the source tree}"

# comp WORD...: the completions for the command line WORD... (the last
# word is the one being completed), sorted and unique, one a line.
comp() {
	bash --norc --noprofile -c '
		. "$1/completions/cancelrun.bash" || exit 1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMPREPLY=()
		_cancelrun || exit 1
		printf "%s\n" "${COMPREPLY[@]}"' _ "$TOP_SRCDIR" "$CANCELRUN" "$@" |
	    sed '/^$/d' | sort -u
}

# help_options: the long options of cancelrun --help, one a line.
help_options() {
	"$CANCELRUN" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u
}

@test "bash: every long option of --help, and '=' for those with an argument" {
	run comp --
	[ "$status" -eq 0 ]
	echo "$output"
	[ "$(sed 's/=$//' <<<"$output" | sort -u)" = "$(help_options)" ]
	[ "$(wc -l <<<"$output")" -ge 10 ]
	grep -qx -- --timeout= <<<"$output"
	grep -qx -- --junit= <<<"$output"
	grep -qx -- --quiet <<<"$output"
	run comp --ti
	[ "$output" = --timeout= ]
}

@test "bash: signal names for -s, --signal and each step of --term-seq" {
	run comp -s TE
	[ "$output" = TERM ]
	run comp --signal = KI
	[ "$output" = KILL ]
	run comp --signal=KI
	[ "$output" = --signal=KILL ]
	run comp --term-seq INT,5s,TE
	[ "$output" = INT,5s,TERM ]
	run comp -s ""
	grep -qx HUP <<<"$output"
	grep -qx USR1 <<<"$output"
	not grep -q '^SIG' <<<"$output"
}

@test "bash: .ini files for -f, --jobs, --check and --plan; any file for --junit" {
	mkdir "$TMP/d" "$TMP/d/sub"
	touch "$TMP/d/ci.ini" "$TMP/d/other.ini" "$TMP/d/notes.txt"
	for opt in -f --jobs --check --plan; do
		run comp "$opt" "$TMP/d/"
		echo "$opt: $output"
		[ "$output" = "$(printf '%s\n' "$TMP/d/ci.ini" "$TMP/d/other.ini" \
		    "$TMP/d/sub" | sort)" ]
	done
	run comp --jobs = "$TMP/d/c"
	[ "$output" = "$TMP/d/ci.ini" ]
	run comp --junit "$TMP/d/n"
	[ "$output" = "$TMP/d/notes.txt" ]
}

@test "bash: the words of --output, --leftovers, --exit-code, --timeout; no guess for a duration" {
	run comp --output ""
	[ "$output" = "$(printf 'prefix\nraw')" ]
	run comp --leftovers = w
	[ "$output" = wait ]
	run comp --exit-code=f
	[ "$output" = "$(printf -- '--exit-code=first-failure\n--exit-code=fold')" ]
	run comp -g ""
	[ -z "$output" ]
	run comp --grace = ""
	[ -z "$output" ]
	# --timeout: a duration, or auto.
	run comp -t ""
	[ "$output" = auto ]
	run comp --timeout = a
	[ "$output" = auto ]
	run comp --timeout=a
	[ "$output" = --timeout=auto ]
	run comp -t 5
	[ -z "$output" ]
}

@test "bash: after the options, the command, not cancelrun's options" {
	run comp -t 5s -- sleep
	grep -qx sleep <<<"$output"
	run comp -t 5s sleep
	grep -qx sleep <<<"$output"
	# An option's argument is not the command.
	run comp -s TERM -t 5s slee
	grep -qx sleep <<<"$output"
	# The command's own options are not cancelrun's.
	mkdir "$TMP/w" && touch "$TMP/w/--timeout-file"
	cd "$TMP/w"
	run comp -t 5s sleep --ti
	not grep -qx -- --timeout= <<<"$output"
}

@test "zsh: _cancelrun lists every long option of --help" {
	local opt missing=
	for opt in $(help_options); do
		grep -qF -- "$opt" "$TOP_SRCDIR/completions/_cancelrun" ||
		    missing="$missing $opt"
	done
	echo "missing from completions/_cancelrun:$missing"
	[ -z "$missing" ]
}

@test "zsh: _cancelrun parses and loads under compinit" {
	if ! command -v zsh >/dev/null; then
		skip "zsh is not installed"
	fi
	zsh -n "$TOP_SRCDIR/completions/_cancelrun"
	run zsh -f -c '
		fpath=("$1/completions" $fpath)
		autoload -U compinit && compinit -u -D
		print -r -- "${_comps[cancelrun]}"' _ "$TOP_SRCDIR"
	echo "$output"
	[ "$output" = _cancelrun ]
}

# zcomp LINE: the sets of matches zsh offers for LINE at a prompt, one a
# line as <<a|b>> (tests/cli/zshcomp.zsh drives an interactive zsh on a
# pseudo-terminal).
zcomp() {
	zsh -f "$TOP_SRCDIR/tests/cli/zshcomp.zsh" "$TOP_SRCDIR/completions" \
	    "$(dirname "$CANCELRUN")" "$1"
}

@test "zsh: options, signals, .ini files, words and the command at a prompt" {
	if ! command -v zsh >/dev/null; then
		skip "zsh is not installed"
	fi
	run zcomp 'cancelrun --ti'
	echo "$output"
	grep -qx -- '<<--timeout>>' <<<"$output"
	run zcomp 'cancelrun -s TE'
	echo "$output"
	grep -qx '<<TERM>>' <<<"$output"
	run zcomp 'cancelrun --term-seq=INT,5s,KI'
	echo "$output"
	grep -qx '<<KILL>>' <<<"$output"
	run zcomp 'cancelrun --output='
	echo "$output"
	grep -qx '<<prefix|raw>>' <<<"$output"
	run zcomp 'cancelrun --timeout=a'
	echo "$output"
	grep -qx '<<auto>>' <<<"$output"
	mkdir "$TMP/d"
	touch "$TMP/d/ci.ini" "$TMP/d/notes.txt"
	run zcomp "cancelrun -f $TMP/d/"
	echo "$output"
	grep -qx '<<ci.ini>>' <<<"$output"
	not grep -q 'notes' <<<"$output"
	run zcomp 'cancelrun -t 5s slee'
	echo "$output"
	grep -qx '<<sleep>>' <<<"$output"
}

@test "bash and zsh: after --plan FILE, the names of its jobs and groups" {
	printf '%s\n' '[cancelrun]' 'timeout = 1m' '[group:tests]' \
	    '[job:unit]' 'group = tests' 'command = true' \
	    '  [cleanup:tidy]' 'command = true' > "$TMP/p.ini"
	run comp --plan "$TMP/p.ini" ""
	echo "$output"
	[ "$output" = "$(printf '%s\n' tests tidy unit)" ]
	run comp --plan = "$TMP/p.ini" un
	[ "$output" = unit ]
	run comp "--plan=$TMP/p.ini" unit t
	echo "$output"
	[ "$output" = "$(printf '%s\n' tests tidy)" ]
	# Not after -f: there the words are a command.
	run comp -f "$TMP/p.ini" un
	[ "$output" != unit ]
	if ! command -v zsh >/dev/null; then
		skip "zsh is not installed: its half not run"
	fi
	run zcomp "cancelrun --plan $TMP/p.ini u"
	echo "$output"
	grep -qx '<<unit>>' <<<"$output"
}

@test "bash: --notify takes an optional word: yes, pass or no" {
	run comp --noti
	[ "$output" = --notify ]
	run comp --notify=p
	[ "$output" = --notify=pass ]
	# Its argument is optional: the next word is the command.
	run comp --notify slee
	grep -qx sleep <<<"$output"
}
