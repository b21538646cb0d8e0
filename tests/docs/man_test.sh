#!/usr/bin/env bash
# The man page against the program it documents: the options of its OPTIONS section (long and
# short names, which go together, and the name of each one's argument) are those --help lists,
# the exit statuses of its EXIT STATUS section are those of --help's "Exit status:" list, its .TH
# line carries the version --version prints, and neither mandoc's lint (-W warning) nor groff
# (-ww) has anything to say about it.
#   usage: man_test.sh PATH/TO/corkscrew++ PATH/TO/corkscrew++.1
set -euo pipefail
export LC_ALL=C

NAME=man_test

fail() {
    echo "$NAME: FAIL: $*" >&2
}

die() {
    fail "$@"
    exit 1
}

pass() {
    echo "$NAME: ok: $*"
}

[[ $# -eq 2 ]] || die "usage: $0 PATH/TO/corkscrew++ PATH/TO/corkscrew++.1"
PROGRAM=$1
MAN=$2
[[ -x $PROGRAM ]] || die "$PROGRAM is not an executable program"
[[ -r $MAN ]] || die "cannot read the man page $MAN"
command -v mandoc >/dev/null ||
    die "mandoc is not installed: install the mandoc package (apt-get install mandoc); it lints the man page and renders its tags for the comparisons"
command -v groff >/dev/null ||
    die "groff is not installed: install the groff-base package (apt-get install groff-base)"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

HELP=$WORK/help.txt
"$PROGRAM" --help >"$HELP" 2>"$WORK/help.err" ||
    die "$PROGRAM --help failed (exit $?): $(cat "$WORK/help.err")"
[[ -s $HELP ]] || die "$PROGRAM --help printed nothing"

# --- Reading the man page -------------------------------------------------------------------

# The source lines of the man page's section $1 (".SH OPTIONS", '.SH "EXIT STATUS"'), without
# the .SH line.
man_section() {
    awk -v want="$1" '
        /^\.SH([ \t]|$)/ {
            title = $0
            sub(/^\.SH[ \t]*/, "", title)
            gsub(/"/, "", title)
            sub(/[ \t]+$/, "", title)
            inside = (title == want)
            next
        }
        inside' "$MAN"
}

# The tags of the .TP paragraphs of the man source on stdin, as the reader sees them: each tag
# line (the line after .TP, comments skipped) rendered by mandoc in no-fill mode, one a line,
# so that fonts, escapes and quoting are gone whatever macros wrote them.
rendered_tags() {
    {
        printf '.TH T 1\n.SH NAME\nt \\- t\n.SH TAGS\n.nf\n'
        awk '
            /^\.TP([ \t]|$)/ { tag = 1; next }
            tag && /^[.'\'']\\"/ { next }
            tag { print "@@TAG@@"; print; tag = 0 }'
    } | mandoc -T ascii -O width=1000 | sed 's/.\x08//g' |
        awk 'after { sub(/^[ \t]+/, ""); sub(/[ \t]+$/, ""); print; after = 0; next }
             /^[ \t]*@@TAG@@[ \t]*$/ { after = 1 }'
}

# --- Reading --help -------------------------------------------------------------------------

# The option tags of --help ("-x, --proxy URL", "--relay", "-4"): its option lines, from the
# first one to the blank line after the list, each cut where two blanks part it from its
# description (continuation lines are indented to the description column, and skipped).
help_tags() {
    awk '
        /^  -[^ -]/ || /^      --[^ ]/ { started = 1; print; next }
        started && /^[ \t]*$/ { exit }' "$HELP" |
        sed -E 's/^ +//; s/  .*$//'
}

# The statuses of --help's "Exit status:" list ("0", "128+N"). Entries start at most 5 blanks
# in; their continuation lines are indented to the description, deeper.
help_exit_statuses() {
    awk '/^Exit status:/ { on = 1; next } on && /^[ \t]*$/ { exit } on' "$HELP" |
        sed -nE 's/^ {0,5}([0-9]+(\+[A-Za-z])?)( .*)?$/\1/p'
}

# --- Comparing ------------------------------------------------------------------------------

# Tags on stdin ("-x, --proxy URL") to one line per option name: NAME<TAB>NAMES<TAB>ARGUMENT,
# where NAMES is every name of the tag ("-x --proxy") and ARGUMENT the rest ("URL", or "(none)";
# no field is empty, as read would merge the tabs around it).
options_of_tags() {
    local line word arg names
    local -a words
    while IFS= read -r line; do
        read -r -a words <<<"$line"
        names=()
        arg=""
        for word in "${words[@]}"; do
            if [[ -z $arg && $word =~ ^--?[A-Za-z0-9][-A-Za-z0-9]*,?$ ]]; then
                names+=("${word%,}")
            else
                arg+="${arg:+ }$word"
            fi
        done
        for word in "${names[@]}"; do
            printf '%s\t%s\t%s\n' "$word" "${names[*]}" "${arg:-(none)}"
        done
    done
}

# The difference of two sorted name lists, as "  NAME" lines: in $1, not in $2.
only_in() {
    comm -23 "$1" "$2" | sed 's/^/  /'
}

check_options() {
    local help_opts=$WORK/help.options man_opts=$WORK/man.options
    help_tags | options_of_tags | sort -t $'\t' -k1,1 >"$help_opts"
    man_section OPTIONS | rendered_tags | options_of_tags | sort -t $'\t' -k1,1 >"$man_opts"
    if [[ ! -s $help_opts ]]; then
        fail "found no options in $PROGRAM --help"
        return 1
    fi
    if [[ ! -s $man_opts ]]; then
        fail "found no options (.TP tags) in the OPTIONS section of $MAN"
        return 1
    fi

    cut -f1 "$help_opts" | sort -u >"$WORK/help.names"
    cut -f1 "$man_opts" | sort -u >"$WORK/man.names"
    local missing extra
    missing=$(only_in "$WORK/help.names" "$WORK/man.names")
    extra=$(only_in "$WORK/man.names" "$WORK/help.names")
    if [[ -n $missing || -n $extra ]]; then
        fail "the options of $MAN (OPTIONS) are not those of --help"
        [[ -z $missing ]] || printf 'in --help, not in the man page:\n%s\n' "$missing" >&2
        [[ -z $extra ]] || printf 'in the man page, not in --help:\n%s\n' "$extra" >&2
        return 1
    fi
    pass "the man page's OPTIONS list the $(wc -l <"$WORK/help.names") option names of --help, and no other"

    # For each name: the same names go with it, and the same argument (the man page may add an
    # optional part after it: -L [ADDR:]PORT[:DESTHOST:DESTPORT] for --help's [ADDR:]PORT).
    local bad=0 name help_names help_arg man_names man_arg
    while IFS=$'\t' read -r name help_names help_arg man_names man_arg; do
        if [[ $help_names != "$man_names" ]]; then
            fail "option $name: --help names it '$help_names', the man page '$man_names'"
            bad=1
        fi
        if [[ $help_arg != "$man_arg" && ! ($help_arg != "(none)" && $man_arg == "${help_arg}["*) ]]; then
            fail "option $name: its argument is '$help_arg' in --help, '$man_arg' in the man page"
            bad=1
        fi
    done < <(join -t $'\t' -j1 "$help_opts" "$man_opts")
    [[ $bad -eq 0 ]] || return 1
    pass "each option has the same short and long names and the same argument in --help and the man page"
}

check_exit_statuses() {
    help_exit_statuses | sort -u >"$WORK/help.exit"
    man_section "EXIT STATUS" | rendered_tags | sort -u >"$WORK/man.exit"
    if [[ ! -s $WORK/help.exit ]]; then
        fail "found no \"Exit status:\" list in $PROGRAM --help"
        return 1
    fi
    local missing extra
    missing=$(only_in "$WORK/help.exit" "$WORK/man.exit")
    extra=$(only_in "$WORK/man.exit" "$WORK/help.exit")
    if [[ -n $missing || -n $extra ]]; then
        fail "the exit statuses of $MAN (EXIT STATUS) are not those of --help"
        [[ -z $missing ]] || printf 'in --help, not in the man page:\n%s\n' "$missing" >&2
        [[ -z $extra ]] || printf 'in the man page, not in --help:\n%s\n' "$extra" >&2
        return 1
    fi
    pass "the man page's EXIT STATUS has the statuses of --help: $(sort -n "$WORK/help.exit" | tr '\n' ' ' | sed 's/ $//')"
}

check_version() {
    local first program version th source
    if ! first=$("$PROGRAM" --version 2>&1 | head -n 1); then
        fail "$PROGRAM --version failed"
        return 1
    fi
    program=${first%% *}
    version=$(grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)*([-+~][0-9A-Za-z.+~-]*)?' <<<"$first" | head -n 1 || true)
    if [[ -z $version ]]; then
        fail "no version number in the first line of $PROGRAM --version: '$first'"
        return 1
    fi
    th=$(grep -m 1 -E '^\.TH([ \t]|$)' "$MAN" || true)
    if [[ -z $th ]]; then
        fail "$MAN has no .TH line"
        return 1
    fi
    # The fourth argument of .TH (the source: "corkscrew++ 0.1.0"), words in double quotes
    # taken as one.
    source=$(awk '{
        line = substr($0, 4); n = 0
        while (line != "") {
            sub(/^[ \t]+/, "", line)
            if (line == "") break
            if (substr(line, 1, 1) == "\"") {
                end = index(substr(line, 2), "\"")
                if (end == 0) { arg = substr(line, 2); line = "" }
                else { arg = substr(line, 2, end - 1); line = substr(line, end + 2) }
            } else {
                match(line, /^[^ \t]+/); arg = substr(line, 1, RLENGTH); line = substr(line, RLENGTH + 1)
            }
            if (++n == 4) { print arg; exit }
        }
    }' <<<"$th")
    if [[ $source != "$program $version" ]]; then
        fail "the .TH line of $MAN says '${source:-(nothing)}' where --version says '$program $version': $th"
        return 1
    fi
    pass "the man page's .TH line has the version --version prints ($program $version)"
}

check_mandoc_lint() {
    local out rc=0
    out=$(mandoc -T lint -W warning "$MAN" 2>&1) || rc=$?
    if [[ $rc -ne 0 || -n $out ]]; then
        fail "mandoc -T lint -W warning $MAN (exit $rc):"
        printf '%s\n' "$out" >&2
        return 1
    fi
    pass "mandoc -T lint -W warning finds nothing"
}

check_groff() {
    local out rc=0
    out=$(groff -man -ww -z "$MAN" 2>&1) || rc=$?
    if [[ $rc -ne 0 || -n $out ]]; then
        fail "groff -man -ww -z $MAN (exit $rc):"
        printf '%s\n' "$out" >&2
        return 1
    fi
    pass "groff -man -ww -z finds nothing"
}

failed=0
for check in check_options check_exit_statuses check_version check_mandoc_lint check_groff; do
    if ! "$check"; then
        failed=$((failed + 1))
    fi
done
if [[ $failed -ne 0 ]]; then
    die "$failed check(s) failed: the man page $MAN does not agree with $PROGRAM (see above)"
fi
echo "$NAME: all checks passed"
