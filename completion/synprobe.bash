# bash completion for synprobe(1): subcommands, options, --format values, capture files
# for analyze and JSON results for report and diff. Installed as
# share/bash-completion/completions/synprobe (bash-completion loads it on first use).
# Works without bash-completion too: source it, then `complete` is set up below.

_synprobe() {
  local cur prev words cword split
  if declare -F _init_completion >/dev/null 2>&1; then
    _init_completion -s || return  # -s: --format=VALUE completes VALUE
  else
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
    # bash splits --format=VALUE at '=' (COMP_WORDBREAKS): the option is the word before it.
    if [ "$cur" = "=" ]; then
      cur="" prev=${COMP_WORDS[COMP_CWORD - 1]}
    elif [ "$prev" = "=" ] && [ "$COMP_CWORD" -ge 2 ]; then
      prev=${COMP_WORDS[COMP_CWORD - 2]}
    fi
  fi

  local commands="analyze probe trace report diff merge"
  local output_opts="-F --format --json -o --output --color -n --numeric -v --verbose --report --vantage-name -h --help"
  local live_opts="-p --ports -4 -6 -i --interface -S --source --sport -c --count --ttl --interval --timeout
    --rate --max-packets --no-baseline --control-port --max-ttl --repeat --trace-budget --user -w --write $output_opts"

  # The subcommand is the first word that is not an option.
  local command="" i
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      -*) ;;
      *) command=${words[i]}; break ;;
    esac
  done

  # Values of the option before the cursor.
  case $prev in
    -F | --format)
      if [ "$command" = diff ]; then
        COMPREPLY=($(compgen -W "text md json" -- "$cur"))
      else
        COMPREPLY=($(compgen -W "text json md html" -- "$cur"))
      fi
      return ;;
    --color)
      COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
      return ;;
    -o | --output | --report | -w | --write | -r | --read)
      _synprobe_files "$prev"
      return ;;
    -i | --interface)
      COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
      return ;;
    --user)
      COMPREPLY=($(compgen -u -- "$cur"))
      return ;;
    -f | --filter | -p | --ports | -S | --source | --sport | -c | --count | --ttl | --interval | --timeout | \
      --rate | --max-packets | --control-port | --max-ttl | --repeat | --trace-budget | --vantage-name | --max-apart | \
      --change-at | --sni | --http-host)
      return ;;  # a value of the user's own
  esac

  if [ -z "$command" ]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "-h --help -V --version" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    fi
    return
  fi

  local opts=""
  case $command in
    analyze) opts="-r --read -f --filter --summary $output_opts" ;;
    probe) opts="$live_opts --no-trace --sni --http-host" ;;
    trace) opts="$live_opts" ;;
    report) opts="-F --format -o --output -h --help" ;;
    diff) opts="-F --format -o --output -h --help" ;;
    merge) opts="-F --format --json -o --output --report --max-apart --change-at -h --help" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  case $command in
    analyze) _synprobe_files capture ;;
    report | diff | merge) _synprobe_files json ;;
  esac
}

# Files (and directories to walk into) of a kind: capture files for analyze, JSON results
# for report and diff, anything for -o/--report/-w.
_synprobe_files() {
  local pattern
  case $1 in
    capture | -r | --read) pattern='@(pcap|pcapng|cap|pcap.gz|pcapng.gz)' ;;
    json) pattern='json' ;;
    *) pattern='' ;;
  esac
  if declare -F _filedir >/dev/null 2>&1; then
    _filedir $pattern
    return
  fi
  local IFS=$'\n' f
  COMPREPLY=()
  for f in $(compgen -f -- "$cur"); do
    if [ -d "$f" ] || [ -z "$pattern" ] || [[ $f == *.$pattern ]]; then
      COMPREPLY+=("$f")
    fi
  done
  compopt -o filenames 2>/dev/null || true
}

complete -F _synprobe synprobe
