#!/usr/bin/env bash
# The bash completion (cli/completion/localsgd.bash) against the built executable: each
# case types a command line and checks the words offered for its last word.
set -uo pipefail
exe=$1
source "$(dirname "$0")/../cli/completion/localsgd.bash"
failures=0
offers() {  # expected words, then "--", then the command line after the executable
  local expected=() line=()
  while [[ $1 != -- ]]; do expected+=("$1"); shift; done
  shift
  COMP_WORDS=("$exe" "$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  _localsgd
  local word
  for word in "${expected[@]}"; do
    if ! printf '%s\n' "${COMPREPLY[@]}" | grep -qx -- "$word"; then
      echo "FAIL: 'localsgd $*' does not offer '$word' (offers: ${COMPREPLY[*]})"
      failures=$((failures + 1))
    fi
  done
}
only() {  # exactly these words
  local n=0 args=("$@")
  while [[ ${args[n]} != -- ]]; do n=$((n + 1)); done
  offers "$@"
  if ((${#COMPREPLY[@]} != n)); then
    echo "FAIL: 'localsgd ${args[*]:n+1}' offers ${COMPREPLY[*]}, expected ${args[*]:0:n}"
    failures=$((failures + 1))
  fi
}

only train -- tr
offers train solve sweep eval predict plugins data model -- ''
only --workers --worker-speeds -- train --wor
offers -K --batch --plugin --print-config -- train -
only logreg -- train --plugin logr
offers logreg softmax ridge svm huber mlp -- train --plugin ''
offers constant hierarchical post-local -- train -K 2 --schedule ''
offers libsvm csv bin -- train --reader ''
only auto always never -- train --progress ''
only table json csv -- sweep --format ''
only list info new -- plugins ''
only objective reader schedule -- plugins new --kind ''
offers logreg libsvm constant -- plugins info ''
only inspect convert -- data ''
# An option's value is not a subcommand: `--plugin train` stays in train's options.
offers --steps -- train --plugin logreg --data x --st
# --config before the subcommand.
offers --plugin -- --config run.toml train --pl
# --opt=value (bash splits it at '='), and file names with spaces, whole, typed or escaped.
only logreg -- train --plugin = logr
only json -- sweep --format = j
only table json csv -- sweep --format =
files=$(mktemp -d)
trap 'rm -rf "$files"' EXIT
touch "$files/my data.csv" "$files/other.csv" "$files/plug in.so"
only "$files/my data.csv" -- train --data "$files/my"
only "$files/my data.csv" -- train --data = "$files/my"
only "$files/my data.csv" -- train --data "$files/my\ d"
offers "$files/plug in.so" -- train --plugin "$files/p"
if ((failures)); then exit 1; fi
echo "completion: all cases pass"
