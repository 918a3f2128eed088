# zshcomp.zsh - what zsh's completion offers for a command line, for
# completion.bats: zsh -f zshcomp.zsh FPATH_DIR BIN_DIR 'LINE'
#
# Starts an interactive zsh on a pseudo-terminal (zsh/zpty) with FPATH_DIR
# in $fpath and BIN_DIR in $path, runs compinit, wraps compadd so that
# every set of matches offered is printed as <<a|b|c>>, types LINE and a
# TAB, and prints those sets, one a line.  Waits for what it expects, at
# most 20 s for each step, never a fixed time.
zmodload zsh/zpty zsh/datetime

# drain_until PATTERN: reads the terminal into $got until it matches
# PATTERN, for at most 20 s.
drain_until() {
	local chunk end=$((EPOCHREALTIME + 20))
	while (( EPOCHREALTIME < end )); do
		while zpty -r -t z chunk; do got+=$chunk; done
		[[ $got == $~1 ]] && return 0
		sleep 0.05
	done
	return 1
}

got=
zpty z "TERM=dumb zsh -f -i"
zpty -w z "fpath=($1 \$fpath)"
zpty -w z "path=($2 \$path)"
zpty -w z "autoload -U compinit"
zpty -w z "compinit -u -D"
zpty -w z 'compadd () { local -a h; builtin compadd -O h "$@"; (( $#h )) && print -r -- "<<${(j:|:)h}>>"; builtin compadd "$@" }'
zpty -w z 'print READY-$((6 * 7))'
if ! drain_until '*READY-42*'; then
	print -u2 "zsh did not start: $got"
	zpty -d z
	exit 1
fi
got=
zpty -w -n z "$3"$'\t'
drain_until '*<<*>>*'
rc=$?
print -r -- "${got//$'\r'/}" | grep -ao '<<[^>]*>>' | sort -u
zpty -d z
exit $rc
