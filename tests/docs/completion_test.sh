#!/usr/bin/env bash
# The shell completions in completion/: the bash script completes exactly the
# options of `corkscrew++ --help` for `corkscrew++ -`, and the values of --auth,
# --auth-file, -x, --auth=, and the DESTPORT after DESTHOST (driven through the
# function that `complete -p corkscrew++` names, without bash-completion and, when
# it is installed, with it); the zsh function parses (zsh -n), names exactly the
# options of --help in its _arguments specs, and completes in a real zsh (zpty,
# compinit): --au to --auth and --auth-file, --auth's schemes, -x's schemes, and
# no -6 after -4.
#
# Usage: completion_test.sh PATH/TO/corkscrew++ PATH/TO/completion-dir
set -euo pipefail

NAME=completion
say() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
die() {
    say "FAIL: $*"
    exit 1
}

(($# == 2)) || die "usage: $0 PATH/TO/corkscrew++ PATH/TO/completion-dir"
PROGRAM=$1
COMPLETION_DIR=$(cd "$2" && pwd) || die "no directory $2"
BASH_SCRIPT=$COMPLETION_DIR/corkscrew++.bash
ZSH_FUNCTION=$COMPLETION_DIR/_corkscrew++
[[ -x $PROGRAM ]] || die "$PROGRAM is not an executable"
[[ -r $BASH_SCRIPT ]] || die "no bash completion $BASH_SCRIPT"
[[ -r $ZSH_FUNCTION ]] || die "no zsh completion $ZSH_FUNCTION"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/completion_test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# No one's shell settings, ssh config or known hosts take part.
mkdir "$WORK/home"
export HOME=$WORK/home
unset BASH_ENV ENV ZDOTDIR

FAILED=()
# Run one check in a subshell with set -e; say PASS or FAIL with its description.
check() {
    local desc=$1 rc
    shift
    set +e
    (
        set -e
        "$@"
    )
    rc=$?
    set -e
    if ((rc == 0)); then
        say "PASS: $desc"
    else
        say "FAIL: $desc"
        FAILED+=("$desc")
    fi
}

# Compare two files of words (one a line, sorted): say what is only in each.
expect_same_set() {
    local what=$1 expected=$2 got=$3 only
    if ! cmp -s "$expected" "$got"; then
        only=$(comm -23 "$expected" "$got" | tr '\n' ' ')
        [[ -z $only ]] || echo "    missing from $what: $only" >&2
        only=$(comm -13 "$expected" "$got" | tr '\n' ' ')
        [[ -z $only ]] || echo "    in $what but not expected: $only" >&2
        return 1
    fi
}

# Words (arguments after the first) to a sorted file ($1).
words_file() {
    local file=$1
    shift
    if (($#)); then printf '%s\n' "$@"; fi | LC_ALL=C sort -u >"$file"
}

# --- the options of --help ----------------------------------------------------

# Option lines of --help: "  -x, --proxy URL  ...", "  -4  ...", "      --auth-file FILE  ...";
# continuation lines are indented further and never match.
HELP_OPTIONS=$WORK/help.options
"$PROGRAM" --help >"$WORK/help.txt" || die "$PROGRAM --help failed"
sed -nE -e 's/^  (-[[:alnum:]])(, (--[[:alnum:]][[:alnum:]-]*))?( .*)?$/\1\n\3/p' \
    -e 's/^      (--[[:alnum:]][[:alnum:]-]*)( .*)?$/\1/p' "$WORK/help.txt" |
    sed '/^$/d' | LC_ALL=C sort -u >"$HELP_OPTIONS"
count=$(wc -l <"$HELP_OPTIONS")
((count >= 20)) || {
    sed 's/^/    /' "$WORK/help.txt" >&2
    die "found only $count options in --help (above): has its layout changed?"
}
if ! grep -qx -- --help "$HELP_OPTIONS" || ! grep -qx -- -x "$HELP_OPTIONS"; then
    die "--help's options lack --help or -x: the extraction is broken"
fi
say "--help lists $count option names"

# --- bash ---------------------------------------------------------------------

# bash_complete MODE LINE: the completions (COMPREPLY, one a line) of LINE, the
# cursor at its end, in a fresh bash that sourced the completion script (MODE
# bash-completion: after the bash-completion package's bash_completion).
# COMP_WORDS is split as bash splits it: at blanks, and each run of ':' or '='
# (characters of COMP_WORDBREAKS) a word of its own. The function called is the
# one `complete -p corkscrew++` names.
BASH_COMPLETION_MAIN=${BASH_COMPLETION_MAIN:-/usr/share/bash-completion/bash_completion}
# shellcheck disable=SC2016 # expanded by the inner bash
BASH_DRIVER='
set +eu
mode=$1 script=$2 line=$3
if [[ $mode == bash-completion ]]; then
    source "$BASH_COMPLETION_MAIN" || exit 3
    declare -F _init_completion >/dev/null || { echo "no _init_completion in $BASH_COMPLETION_MAIN" >&2; exit 3; }
fi
source "$script" || exit 3
spec=$(complete -p corkscrew++ 2>/dev/null) || { echo "the script registers no completion for corkscrew++" >&2; exit 3; }
read -ra spec_words <<<"$spec"
function=
for ((i = 0; i < ${#spec_words[@]} - 1; i++)); do
    [[ ${spec_words[i]} == -F ]] && function=${spec_words[i + 1]}
done
[[ -n $function ]] && declare -F "$function" >/dev/null || { echo "no function in: $spec" >&2; exit 3; }
COMP_WORDS=()
read -ra blank_words <<<"$line"
for w in "${blank_words[@]}"; do
    while [[ -n $w ]]; do
        if [[ $w == [:=]* ]]; then part=${w%%[!:=]*}; else part=${w%%[:=]*}; fi
        COMP_WORDS+=("$part")
        w=${w#"$part"}
    done
done
[[ $line == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE=$line
COMP_POINT=${#line}
COMP_TYPE=9
COMP_KEY=9
COMPREPLY=()
"$function" corkscrew++ "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
if ((${#COMPREPLY[@]})); then printf "%s\n" "${COMPREPLY[@]}"; fi
'
bash_complete() {
    BASH_COMPLETION_MAIN=$BASH_COMPLETION_MAIN \
        bash --norc --noprofile -c "$BASH_DRIVER" bash_driver "$1" "$BASH_SCRIPT" "$2"
}

# expect_bash_completions MODE LINE WORD...: LINE completes to exactly WORDs.
expect_bash_completions() {
    local mode=$1 line=$2
    shift 2
    words_file "$WORK/bash.expected" "$@"
    bash_complete "$mode" "$line" | LC_ALL=C sort -u >"$WORK/bash.got" ||
        { echo "    the completion of '$line' failed" >&2; return 1; }
    expect_same_set "the completion of '$line'" "$WORK/bash.expected" "$WORK/bash.got"
}

check_bash_syntax() {
    bash -n "$BASH_SCRIPT"
}

check_bash_options() {
    local mode=$1
    bash_complete "$mode" "corkscrew++ -" | LC_ALL=C sort -u >"$WORK/bash.options" ||
        { echo "    the completion of 'corkscrew++ -' failed" >&2; return 1; }
    expect_same_set "bash's completion of 'corkscrew++ -' (against --help)" "$HELP_OPTIONS" "$WORK/bash.options"
}

check_bash_auth() {
    expect_bash_completions "$1" "corkscrew++ --auth " basic digest negotiate any
    expect_bash_completions "$1" "corkscrew++ --auth=di" digest
}

check_bash_auth_file() {
    local dir=$WORK/files-$1
    mkdir -p "$dir"
    : >"$dir/proxy-credentials"
    : >"$dir/other-file"
    expect_bash_completions "$1" "corkscrew++ -x http://proxy.example:3128 --auth-file $dir/proxy-c" \
        "$dir/proxy-credentials"
}

check_bash_proxy_url() {
    expect_bash_completions "$1" "corkscrew++ -x " http:// https://
    expect_bash_completions "$1" "corkscrew++ --proxy=http" http:// https://
}

check_bash_ports() {
    expect_bash_completions "$1" "corkscrew++ -v -x http://proxy.example:3128 some.host " 22 443
    expect_bash_completions "$1" "corkscrew++ --connect-timeout "
}

bash_checks() {
    local mode=$1
    check "bash ($mode): 'corkscrew++ -' completes exactly the options of --help" check_bash_options "$mode"
    check "bash ($mode): '--auth ' completes basic digest negotiate any, '--auth=di' digest" check_bash_auth "$mode"
    check "bash ($mode): '--auth-file DIR/proxy-c' completes the file in DIR" check_bash_auth_file "$mode"
    check "bash ($mode): '-x ' and '--proxy=http' complete http:// and https://" check_bash_proxy_url "$mode"
    check "bash ($mode): ports after DESTHOST are 22 443; nothing for a timeout" check_bash_ports "$mode"
}

check "bash -n $BASH_SCRIPT" check_bash_syntax
bash_checks plain
if [[ -r $BASH_COMPLETION_MAIN ]]; then
    bash_checks bash-completion
else
    say "note: $BASH_COMPLETION_MAIN not found: bash checked without the bash-completion package only"
fi

# --- zsh ----------------------------------------------------------------------

command -v zsh >/dev/null ||
    die "zsh is not installed (apt-get install zsh; tools/packages.txt should list it): the zsh completion is not checked"

check_zsh_syntax() {
    zsh -n "$ZSH_FUNCTION"
    local first
    IFS= read -r first <"$ZSH_FUNCTION"
    [[ $first == "#compdef corkscrew++" ]] || { echo "    the first line is '$first', not '#compdef corkscrew++'" >&2; return 1; }
}

# The option names of the _arguments specs, as zsh itself sees them: the function
# runs (autoloaded as compinit would) with a stand-in _arguments that prints its
# specs; each spec loses its exclusion list "(...)", its "*" (repeatable), and
# from the first of [ + = : on (description, argument).
# shellcheck disable=SC2016 # expanded by zsh
ZSH_SPECS='
emulate -R zsh
fpath=("$1" $fpath)
autoload -Uz _corkscrew++
_arguments() {
    setopt localoptions extendedglob
    local spec
    # _arguments own options (-s -S ..., and those with a value) before the specs.
    while [[ $1 == -[nswWCRS]## || $1 == -[AOM] ]]; do
        [[ $1 == -[AOM] ]] && shift
        shift
    done
    for spec; do
        spec=${spec#\(*\)}
        spec=${spec#\*}
        [[ $spec == [-+]* ]] || continue
        print -r -- ${spec%%[\[+=:]*}
    done
    return 1
}
_corkscrew++ || true
'
check_zsh_options() {
    zsh -f -c "$ZSH_SPECS" zsh_specs "$COMPLETION_DIR" | LC_ALL=C sort -u >"$WORK/zsh.options"
    [[ -s $WORK/zsh.options ]] || { echo "    no option specs found in $ZSH_FUNCTION" >&2; return 1; }
    expect_same_set "the _arguments specs of _corkscrew++ (against --help)" "$HELP_OPTIONS" "$WORK/zsh.options"
}

# zsh_complete LINE: the matches zsh's completion system adds for LINE (one a
# line): an interactive `zsh -f` in a pseudo-terminal (zsh/zpty) loads compinit
# with the completion directory first in $fpath, a compadd wrapper records every
# match added, and LINE is typed followed by a Tab (bound to complete-word).
# shellcheck disable=SC2016 # expanded by zsh
ZSH_DRIVER='
emulate -R zsh
zmodload zsh/zpty || { print -u2 "zsh has no zsh/zpty module"; exit 3 }
local compdir=$1 work=$2 line=$3 chunk
local out=$work/matches ready=$work/ready done=$work/done
rm -f $out $ready $done
cat >$work/init.zsh <<INIT
PS1="" RPS1="" PROMPT_EOL_MARK=""
unsetopt beep
fpath=(${(q)compdir} \$fpath)
autoload -Uz compinit && compinit -u -D
zstyle ":completion:*" list-grouped false
zstyle ":completion:*" insert-tab false
bindkey "^I" complete-word
compadd() {
    if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "\$@"; return; fi
    local -a __hits
    builtin compadd -O __hits "\$@"
    (( \$#__hits )) && print -rl -- \$__hits >>${(q)out}
    builtin compadd "\$@"
}
_capture_done() { : >${(q)done} }
comppostfuncs=(_capture_done)
: >${(q)ready}
INIT
export TERM=vt100
zpty z zsh -f -i
# Wait for a file, reading what the pseudo-terminal shows so that it never fills.
wait_for() {
    local i
    for i in {1..400}; do
        while zpty -rt z chunk; do :; done
        [[ -e $1 ]] && return 0
        sleep 0.05
    done
    return 1
}
zpty -w z "source ${(q)work}/init.zsh"
wait_for $ready || { print -u2 "the zsh in the pseudo-terminal did not start"; zpty -d z; exit 4 }
zpty -w -n z "$line"
wait_for $done || { print -u2 "the completion of \"$line\" did not finish"; zpty -d z; exit 5 }
zpty -d z
[[ -e $out ]] && cat $out
exit 0
'
zsh_complete() {
    local work=$WORK/zpty
    mkdir -p "$work"
    timeout 60 zsh -f -c "$ZSH_DRIVER" zsh_driver "$COMPLETION_DIR" "$work" "$1"$'\t'
}

# expect_zsh_completions LINE WORD...: zsh offers exactly WORDs for LINE.
expect_zsh_completions() {
    local line=$1
    shift
    words_file "$WORK/zsh.expected" "$@"
    zsh_complete "$line" | LC_ALL=C sort -u >"$WORK/zsh.got" ||
        { echo "    zsh's completion of '$line' failed" >&2; return 1; }
    expect_same_set "zsh's completion of '$line'" "$WORK/zsh.expected" "$WORK/zsh.got"
}

check_zsh_long_prefix() {
    expect_zsh_completions "corkscrew++ --au" --auth --auth-file
}

check_zsh_values() {
    expect_zsh_completions "corkscrew++ --auth " basic digest negotiate any
    expect_zsh_completions "corkscrew++ -x " http:// https://
}

check_zsh_exclusion() {
    zsh_complete "corkscrew++ -4 -" | LC_ALL=C sort -u >"$WORK/zsh.after4" ||
        { echo "    zsh's completion of 'corkscrew++ -4 -' failed" >&2; return 1; }
    grep -qx -- --proxy "$WORK/zsh.after4" || { echo "    no --proxy offered after -4" >&2; return 1; }
    if grep -qx -- -6 "$WORK/zsh.after4"; then
        echo "    -6 offered after -4" >&2
        return 1
    fi
}

check "zsh -n $ZSH_FUNCTION, and its first line is '#compdef corkscrew++'" check_zsh_syntax
check "zsh: the _arguments specs name exactly the options of --help" check_zsh_options
check "zsh (zpty, compinit): 'corkscrew++ --au' completes --auth and --auth-file" check_zsh_long_prefix
check "zsh (zpty, compinit): '--auth ' completes the four schemes, '-x ' http:// and https://" check_zsh_values
check "zsh (zpty, compinit): after -4, -6 is not offered" check_zsh_exclusion

if ((${#FAILED[@]})); then
    say "${#FAILED[@]} check(s) failed:"
    for f in "${FAILED[@]}"; do
        say "  - $f"
    done
    exit 1
fi
say "all checks passed"
