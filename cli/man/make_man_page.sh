#!/usr/bin/env bash
# Writes localsgd(1) from the executable's own help texts (every command and subcommand),
# so the manual never drifts from the program: make_man_page.sh EXECUTABLE OUTPUT
set -euo pipefail
exe=$1 out=$2
version=$("$exe" --version | awk '{print $2}')

# A help text as roff: literal lines, with roff's escape and control characters made safe.
literal() {
  printf '.nf\n'
  sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/'
  printf '.fi\n'
}
subcommands() {
  "$@" --help | sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z0-9_-]*\) .*/\1/p'
}

{
  printf '.TH LOCALSGD 1 "" "localsgd %s" "User Commands"\n' "$version"
  printf '.SH NAME\nlocalsgd \\- Local SGD with plugin objectives, data readers and averaging schedules\n'
  printf '.SH SYNOPSIS\n.B localsgd\n[\\fB\\-\\-config\\fR \\fIFILE\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR]\n'
  printf '.SH DESCRIPTION\n'
  printf 'K workers each take H local SGD steps on mini-batches of size b, then are replaced by their average (Stich, ICLR 2019). Objectives, data readers and averaging schedules are shared-library plugins; workers run on threads (oneTBB) or over MPI ranks.\n'
  printf '.PP\nThe program'"'"'s own help (\\fBlocalsgd \\-\\-help\\fR), then that of each command:\n.PP\n'
  "$exe" --help | literal
  printf '.SH COMMANDS\n'
  for command in $(subcommands "$exe"); do
    printf '.SS "localsgd %s"\n' "$command"
    "$exe" "$command" --help | literal
    for sub in $(subcommands "$exe" "$command"); do
      printf '.SS "localsgd %s %s"\n' "$command" "$sub"
      "$exe" "$command" "$sub" --help | literal
    done
  done
  cat <<'ROFF'
.SH EXIT STATUS
0 success; 1 failure (divergence, an unmet target with \-\-require\-target, a solver that did not converge); 2 usage error (options, config file, plugin or step-size parameters); 3 bad data or file (reader errors name file, line and column); 4 a plugin's fault (names the plugin); 130/143 interrupted by SIGINT/SIGTERM (a checkpoint is written when \-\-checkpoint is set).
.SH ENVIRONMENT
.TP
.B LOCALSGD_PLUGIN_PATH
colon-separated directories searched for plugins before the installed ones.
.TP
.B XDG_CACHE_HOME
the f* cache lives in $XDG_CACHE_HOME/localsgd (default ~/.cache/localsgd).
.SH FILES
.TP
.I lib/localsgd/plugins/
the installed plugins, next to the executable's prefix.
.TP
.I share/bash-completion/completions/localsgd
bash completion.
.SH EXAMPLES
.nf
localsgd train \-\-plugin logreg
localsgd train \-\-plugin logreg \-\-data w8a \-K 8 \-H 16 \-\-out w8a.model
localsgd predict \-\-model w8a.model \-\-data w8a.t \-\-format csv
localsgd sweep \-\-plugin logreg \-\-data w8a \-K 1,2,4,8 \-H 1,16 \-\-target\-rel 1e\-2
mpirun \-np 2 \-\-bind\-to none localsgd train \-\-plugin logreg \-\-data w8a \-\-backend mpi
.fi
.SH SEE ALSO
README.md, docs/RELIABILITY.md, docs/PLUGINS.md and docs/MODEL_FORMAT.md in the source distribution.
ROFF
} >"$out.tmp"
mv "$out.tmp" "$out"
