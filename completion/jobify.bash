# SPDX-License-Identifier: ISC
# bash completion for jobify(1).
#
# Commands and options come from `jobify --help` and `jobify CMD --help`,
# so they follow the installed binary; route names from `jobify routes`,
# job ids from `jobify jobs --all`, both with the -c and --state-dir given
# on the line; zones for --tz from tzdata.  Needs nothing of the
# bash-completion package, which installs this file where it finds it.

# _jobify_run ARGS...: the jobify of the line (./jobify too), with the
# line's -c and --state-dir, stderr silenced.
_jobify_run()
{
	"${_jobify_bin:-jobify}" "${_jobify_global[@]}" "$@" 2>/dev/null
}

# _jobify_first_field: the first tab-separated field of each line.
_jobify_first_field()
{
	local line
	while IFS= read -r line; do
		printf '%s\n' "${line%%$'\t'*}"
	done
}

_jobify_zones()
{
	local zi=/usr/share/zoneinfo/tzdata.zi
	if [[ -r $zi ]]; then
		# Zones and their links, as tzdata lists them.
		awk '$1 == "Z" { print $2 } $1 == "L" { print $3 }' "$zi"
	else
		printf '%s\n' UTC
	fi
}

_jobify()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=''
	local i word cmd='' cmdidx=0
	local -a _jobify_global=()
	local _jobify_bin=${COMP_WORDS[0]}

	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	COMPREPLY=()
	# The command, and the options that change where jobify looks.
	for ((i = 1; i < COMP_CWORD; i++)); do
		word=${COMP_WORDS[i]}
		case $word in
		-c | --config | --state-dir)
			if ((i + 1 < COMP_CWORD)); then
				_jobify_global+=("$word" "${COMP_WORDS[i + 1]}")
			fi
			((i++))
			;;
		--config=* | --state-dir=*)
			_jobify_global+=("$word")
			;;
		--)
			break
			;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=$word
				cmdidx=$i
			fi
			;;
		esac
	done

	case $prev in
	-c | --config)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		compopt -o filenames 2>/dev/null
		return
		;;
	--state-dir)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		compopt -o filenames 2>/dev/null
		return
		;;
	--tz)
		mapfile -t COMPREPLY < <(compgen -W "$(_jobify_zones)" -- "$cur")
		return
		;;
	--route)
		mapfile -t COMPREPLY < <(compgen -W "$(_jobify_run routes --all | _jobify_first_field)" -- "$cur")
		return
		;;
	--status)
		mapfile -t COMPREPLY < <(compgen -W "scheduled running success failed timeout
			cancelled skipped permanently-failed" -- "$cur")
		return
		;;
	--log-format)
		mapfile -t COMPREPLY < <(compgen -W "logfmt json" -- "$cur")
		return
		;;
	-n | --in | --at | --cron | --id | --env | --timeout | --from | --older-than)
		return
		;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$(_jobify_run --help |
				grep -oE -- '--[a-z][a-z-]*|(^| )-[a-zA-Z]\b' | tr -d ' ' | sort -u)" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_jobify_run --help |
				sed -n '/^Commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p')" -- "$cur")
		fi
		return
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_jobify_run "$cmd" --help |
			grep -oE -- '--[a-z][a-z-]*|(^| |\[)-[a-zA-Z]\b' | tr -d ' [' | sort -u)
			-c --config -v --verbose -q --quiet --state-dir -h --help" -- "$cur")
		return
	fi
	# The operands: the first is a route or a job id, by the command.
	local nargs=0
	for ((i = cmdidx + 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-c | --config | --state-dir | --tz | --route | --status | --log-format | -n | --in | \
			--at | --cron | --id | --env | --timeout | --from | --older-than)
			((i++)) ;;
		--) return ;;
		-*) ;;
		*) ((nargs++)) ;;
		esac
	done
	case $cmd in
	exec | schedule | next | history)
		((nargs == 0)) &&
			mapfile -t COMPREPLY < <(compgen -W "$(_jobify_run routes | _jobify_first_field)" -- "$cur")
		;;
	status | logs)
		((nargs == 0)) &&
			mapfile -t COMPREPLY < <(compgen -W "$(_jobify_run jobs --all | _jobify_first_field)" -- "$cur")
		;;
	wait | cancel)
		mapfile -t COMPREPLY < <(compgen -W "$(_jobify_run jobs --all | _jobify_first_field)" -- "$cur")
		;;
	esac
}

complete -F _jobify jobify
