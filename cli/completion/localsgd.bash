# bash completion for localsgd: subcommands, their options, plugin names and option
# values. Everything is read from the executable being completed (its --help and
# `plugins list`), so the completion never drifts from the program it completes.
# Installed as share/bash-completion/completions/localsgd; or `source` this file.

# The help text of `localsgd WORDS... --help`, cached per command path for the session.
_localsgd_help() {
  local key="$*"
  if [[ ${_localsgd_help_key-} != "$key" ]]; then
    _localsgd_help_key=$key
    _localsgd_help_text=$("$@" --help 2>/dev/null)
  fi
  printf '%s\n' "$_localsgd_help_text"
}

# Subcommand names under "Subcommands:" in a help text on stdin.
_localsgd_subcommands() {
  sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z0-9_-]*\) .*/\1/p'
}

# Option names (-K, --workers, ...) in a help text on stdin.
_localsgd_options() {
  sed -n 's/^ \{2,\}\(-[^ ]*\).*/\1/p' | tr ',' '\n' | grep -- '^-'
}

# Names of the installed plugins of one kind (objective, reader, schedule).
_localsgd_plugins() {
  "$1" plugins list 2>/dev/null | awk -v kind="$2" 'NR > 1 && $1 == kind {print $2}'
}

# File names starting with $cur (one per reply, spaces and all), plus those of `compgen`
# options "$@" (e.g. -X '!*.so'), appended to COMPREPLY.
_localsgd_files() {
  compopt -o filenames 2>/dev/null
  mapfile -t -O ${#COMPREPLY[@]} COMPREPLY < <(compgen -f "$@" -- "$cur")
}

_localsgd() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local exe=${COMP_WORDS[0]} i word
  # --opt=value: bash splits it at '=' (COMP_WORDBREAKS) into "--opt" "=" "value".
  if [[ $cur == = ]]; then
    cur=
  elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  fi
  cur=${cur//\\ / }  # a typed "my\ file" is the file "my file"
  exe=${exe/#\~/$HOME}
  COMPREPLY=()
  # The command path: the words that name a subcommand of the path before them (option
  # values are not subcommand names of their level).
  local path=("$exe")
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    [[ $word == -* ]] && continue
    if _localsgd_help "${path[@]}" | _localsgd_subcommands | grep -qx -- "$word"; then
      path+=("$word")
    fi
  done

  case $prev in
    --plugin) COMPREPLY=($(compgen -W "$(_localsgd_plugins "$exe" objective)" -- "$cur"))
      _localsgd_files -X '!*.so'; return ;;
    --reader) COMPREPLY=($(compgen -W "$(_localsgd_plugins "$exe" reader)" -- "$cur")); return ;;
    --schedule) COMPREPLY=($(compgen -W "$(_localsgd_plugins "$exe" schedule)" -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "table json csv" -- "$cur")); return ;;
    --lr) COMPREPLY=($(compgen -W "auto invtime paper constant sqrt step" -- "$cur")); return ;;
    --backend) COMPREPLY=($(compgen -W "threads mpi" -- "$cur")); return ;;
    --sampling) COMPREPLY=($(compgen -W "iid shuffle" -- "$cur")); return ;;
    --partition) COMPREPLY=($(compgen -W "shared shard contiguous label-skew" -- "$cur")); return ;;
    --kind) COMPREPLY=($(compgen -W "objective reader schedule" -- "$cur")); return ;;
    --to | --from) COMPREPLY=($(compgen -W "libsvm csv bin liblinear" -- "$cur")); return ;;
    --data | --test | --out | --model | --init | --config | --plot | --checkpoint | --resume)
      _localsgd_files; return ;;
    --dir) compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
  esac
  # Choices the help lists as TEXT:{a,b,c}.
  if [[ $prev == --* ]]; then
    local choices
    choices=$(_localsgd_help "${path[@]}" | sed -n "s/^ \{2,\}${prev} [A-Z]*:{\([^}]*\)}.*/\1/p" | tr ',' ' ')
    if [[ -n $choices ]]; then
      COMPREPLY=($(compgen -W "$choices" -- "$cur"))
      return
    fi
  fi

  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_localsgd_help "${path[@]}" | _localsgd_options)" -- "$cur"))
    return
  fi
  if [[ ${path[-1]} == info && ${path[-2]-} == plugins ]]; then  # plugins info NAME
    COMPREPLY=($(compgen -W "$("$exe" plugins list 2>/dev/null | awk 'NR > 1 {print $2}')" -- "$cur"))
    return
  fi
  local subcommands
  subcommands=$(_localsgd_help "${path[@]}" | _localsgd_subcommands)
  if [[ -n $subcommands ]]; then
    COMPREPLY=($(compgen -W "$subcommands" -- "$cur"))
  else
    _localsgd_files
  fi
}
complete -F _localsgd localsgd
