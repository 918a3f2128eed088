# bash completion for cancelrun(1)                          -*- shell-script -*-
#
# The options come from `cancelrun --help` itself (read once per shell), so
# that they never fall behind the program: a long option written there as
# --name=ARG takes an argument, and "-x, --name" pairs a short option with
# it.  What the argument is completed with follows from the option:
# signal names (-s, --signal, each step of --term-seq), job files
# (*.ini: -f, --jobs, --check, --plan), any file (--report, --junit), the
# words an option accepts (--output, --leftovers, --exit-code, --notify,
# --color, --timeout's auto), or nothing (durations).  After "--" or the
# first word that is not an option, the command and its arguments are
# completed as bash would; after --plan FILE, the names of FILE's jobs and
# groups instead.

# _cancelrun_options PROGRAM: fills _cancelrun_long (long options, with a
# trailing "=" for those that take an argument) and _cancelrun_short
# ("-x=--name" pairs) from PROGRAM --help.
_cancelrun_options()
{
	local line short long
	_cancelrun_long=()
	_cancelrun_short=()
	while IFS= read -r line; do
		[[ $line =~ ^\ +((-[a-zA-Z]),\ +)?(--[a-z][a-z-]*)(=?) ]] ||
		    continue
		short=${BASH_REMATCH[2]}
		long=${BASH_REMATCH[3]}${BASH_REMATCH[4]}
		_cancelrun_long+=("$long")
		[[ -n $short ]] && _cancelrun_short+=("$short=$long")
	done < <(LC_ALL=C "$1" --help 2>/dev/null)
	_cancelrun_help_of=$1
}

# _cancelrun_signals PREFIX: signal names without "SIG", after PREFIX.
_cancelrun_signals()
{
	local s names=()
	for s in $(compgen -A signal); do
		names+=("${s#SIG}")
	done
	COMPREPLY=($(compgen -P "$1" -W "${names[*]}" -- "$2"))
}

# _cancelrun_argument OPTION CUR: completes the argument of OPTION.
_cancelrun_argument()
{
	local opt=$1 cur=$2
	case $opt in
	-s | --signal)
		_cancelrun_signals "" "$cur"
		;;
	--term-seq)
		# INT,5s,TERM: a signal after each other comma.
		_cancelrun_signals "${cur%"${cur##*,}"}" "${cur##*,}"
		;;
	-f | --jobs | --check | --plan)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -d -- "$cur")
		    $(compgen -f -X '!*.ini' -- "$cur"))
		;;
	--report | --junit)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	--output)
		COMPREPLY=($(compgen -W "prefix raw" -- "$cur"))
		;;
	--leftovers)
		COMPREPLY=($(compgen -W "kill wait leave" -- "$cur"))
		;;
	--exit-code)
		COMPREPLY=($(compgen -W "fold first-failure" -- "$cur"))
		;;
	--notify)
		COMPREPLY=($(compgen -W "yes pass no" -- "$cur"))
		;;
	--color)
		COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
		;;
	-t | --timeout)
		# A duration, or the one word it takes.
		COMPREPLY=($(compgen -W "auto" -- "$cur"))
		;;
	*)
		COMPREPLY=()	# a duration, or a word we cannot guess
		;;
	esac
}

# _cancelrun_names FILE CUR: the names of the jobs, cleanup jobs and groups
# of job file FILE ([job:NAME], [cleanup:NAME], [group:NAME]).
_cancelrun_names()
{
	local names
	[[ -r $1 ]] || return 0
	names=$(sed -n 's/^[[:space:]]*\[\(job\|cleanup\|group\):\([^]]*\)\].*/\2/p' \
	    -- "$1" 2>/dev/null)
	COMPREPLY=($(compgen -W "$names" -- "$2"))
}

# Whether OPTION (a long one, or a short one) takes an argument.
_cancelrun_takes_arg()
{
	local o
	for o in "${_cancelrun_long[@]}" "${_cancelrun_short[@]}"; do
		case $o in
		"$1=" | "$1=--"*=) return 0 ;;
		esac
	done
	return 1
}

_cancelrun()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev= word i start opt= plan=
	local program=${COMP_WORDS[0]}

	COMPREPLY=()
	[[ ${_cancelrun_help_of-} == "$program" ]] ||
	    _cancelrun_options "$program"

	# Where the options end: "--", or the first word that is not an
	# option (or an option's argument).  From there on, the command.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		if [[ $word == -- ]]; then
			break
		elif [[ $word == = ]]; then
			((i++))        # "--opt" "=" "value", split by bash
			[[ ${COMP_WORDS[i - 2]} == --plan ]] &&
			    plan=${COMP_WORDS[i]-}
		elif [[ $word == --plan=* ]]; then
			plan=${word#--plan=}
		elif [[ $word == -* && $word != *=* ]]; then
			[[ $word == --plan && ${COMP_WORDS[i + 1]-} != = ]] &&
			    plan=${COMP_WORDS[i + 1]-}
			_cancelrun_takes_arg "$word" &&
			    [[ ${COMP_WORDS[i + 1]-} != = ]] && ((i++))
		elif [[ $word != -* ]]; then
			break
		fi
	done
	if ((i < COMP_CWORD)) && [[ -n $plan ]]; then
		# --plan FILE NAME...: the jobs and groups to show.
		_cancelrun_names "${plan/#\~/$HOME}" "$cur"
		return 0
	fi
	if ((i < COMP_CWORD)); then
		start=$i
		[[ ${COMP_WORDS[i]} == -- ]] && ((start++))
		if declare -F _command_offset >/dev/null; then
			_command_offset "$start"    # bash-completion's
		elif ((COMP_CWORD == start)); then
			COMPREPLY=($(compgen -c -- "$cur"))
		else
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return 0
	fi

	# The argument of an option: "--opt ARG", "--opt=ARG" (split by
	# bash at "=" or not), "-s ARG".
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [[ $cur == = ]]; then
		opt=$prev
		cur=
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		opt=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		opt=${cur%%=*}
		cur=${cur#*=}
	elif [[ $prev == -* ]] && _cancelrun_takes_arg "$prev"; then
		opt=$prev
	fi
	if [[ -n $opt ]]; then
		_cancelrun_argument "$opt" "$cur"
		# Without "=" in COMP_WORDBREAKS the word holds "--opt=".
		if [[ ${COMP_WORDS[COMP_CWORD]} == --*=* ]]; then
			COMPREPLY=("${COMPREPLY[@]/#/$opt=}")
		fi
		return 0
	fi

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "${_cancelrun_long[*]}" -- "$cur"))
		# "--timeout=" waits for its argument: no space after it.
		[[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *= ]] &&
		    compopt -o nospace 2>/dev/null
		return 0
	fi
	if [[ -n $plan ]]; then
		_cancelrun_names "${plan/#\~/$HOME}" "$cur"
		return 0
	fi
	COMPREPLY=($(compgen -c -- "$cur"))
	return 0
}

complete -F _cancelrun cancelrun
