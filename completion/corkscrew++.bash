# bash completion for corkscrew++                          -*- shell-script -*-
#
# Installed as /usr/share/bash-completion/completions/corkscrew++, where the
# bash-completion package loads it on first use; it also works sourced alone
# (`source corkscrew++.bash`), with plain compgen in place of bash-completion's
# helpers. The option lists below must match `corkscrew++ --help`
# (tests/docs/completion_test.sh checks it).

# Options that take a value (in the next word, or after = for the long ones).
_corkscrewpp_value_options='-x --proxy --auth-file --netrc-file --auth -H --header
    -A --user-agent --connect-timeout -w --idle-timeout -J --jump --ssh --ssh-option
    --gateway-program -L --listen --max-connections --ready-fd --shutdown-grace
    --proxy-cacert --proxy-cert --proxy-key'
# Options that take none.
_corkscrewpp_flag_options='--relay -z --compress --probe --json --fdpass --proxy-insecure
    --no-env --require-proxy -4 -6 -v --verbose -q --quiet -h --help -V --version'
# The short options that take a value (they end a cluster such as -vx URL).
_corkscrewpp_short_value_letters=xHAwJL

# Without bash-completion: words, cword, cur and prev from COMP_WORDS, with the
# words bash split at COMP_WORDBREAKS characters (':' of a URL, '=' of
# --option=value) joined again when no blank separates them in COMP_LINE.
_corkscrewpp_split_words() {
    local rest=$COMP_LINE word blank i
    words=()
    cword=0
    for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
        word=${COMP_WORDS[i]}
        blank=${rest%%[![:space:]]*}
        rest=${rest#"$blank"}
        if ((i > 0)) && [[ -z $blank && ${#words[@]} -gt 0 ]]; then
            words[${#words[@]} - 1]+=$word
        else
            words+=("$word")
        fi
        rest=${rest#"$word"}
        if ((i == COMP_CWORD)); then
            cword=$((${#words[@]} - 1))
            break
        fi
    done
    cur=${words[cword]-}
    prev=
    ((cword > 0)) && prev=${words[cword - 1]}
    return 0
}

# Print the matches of $1 among the rest of the arguments, one a line.
_corkscrewpp_filter() {
    local prefix=$1 w
    shift
    for w in "$@"; do
        [[ $w == "$prefix"* ]] && printf '%s\n' "$w"
    done
    return 0
}

# Add host names matching $1 (optionally USER@HOST) to COMPREPLY.
_corkscrewpp_hosts() {
    local cur=$1
    if declare -F _known_hosts_real >/dev/null; then
        _known_hosts_real -a -- "$cur"
        return 0
    fi
    local user='' names=() fields=() hosts=() word file
    if [[ $cur == *@* ]]; then
        user=${cur%%@*}@
        cur=${cur#*@}
    fi
    mapfile -t names < <(compgen -A hostname -- "$cur")
    # The Host lines of ~/.ssh/config (not patterns), and the plain (not
    # hashed) names in the known_hosts files.
    if [[ -r ~/.ssh/config ]]; then
        while read -ra fields; do
            [[ ${fields[0],,} == host ]] || continue
            for word in "${fields[@]:1}"; do
                [[ $word == *[*?!]* ]] || names+=("$word")
            done
        done <~/.ssh/config
    fi
    for file in ~/.ssh/known_hosts /etc/ssh/ssh_known_hosts; do
        [[ -r $file ]] || continue
        while read -ra fields; do
            [[ ${fields[0]-} == @* ]] && fields=("${fields[@]:1}")
            word=${fields[0]-}
            [[ -n $word && $word != \#* && $word != \|* ]] || continue
            IFS=, read -ra hosts <<<"$word"
            for word in "${hosts[@]}"; do
                word=${word#[}
                word=${word%%]*}
                [[ $word == *[*?!]* ]] || names+=("$word")
            done
        done <"$file"
    done
    ((${#names[@]})) || return 0
    while IFS= read -r word; do
        COMPREPLY+=("$user$word")
    done < <(_corkscrewpp_filter "$cur" "${names[@]}" | LC_ALL=C sort -u)
    return 0
}

_corkscrewpp_files() {
    if declare -F _filedir >/dev/null; then
        _filedir
    else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        compopt -o filenames 2>/dev/null
    fi
    return 0
}

# Complete the value of option $1 (the word being completed is $cur).
_corkscrewpp_value() {
    case $1 in
    --auth)
        mapfile -t COMPREPLY < <(compgen -W 'basic digest negotiate any' -- "$cur")
        ;;
    --auth-file | --netrc-file | --proxy-cacert | --proxy-cert | --proxy-key)
        _corkscrewpp_files
        ;;
    --ssh | --gateway-program)
        mapfile -t COMPREPLY < <(compgen -c -- "$cur" | LC_ALL=C sort -u)
        [[ $cur == */* ]] && compopt -o filenames 2>/dev/null
        ;;
    -J | --jump)
        _corkscrewpp_hosts "$cur"
        ;;
    -x | --proxy)
        if [[ $cur == http://* || $cur == https://* ]]; then
            # A host after the scheme (then :PORT by hand).
            local scheme=${cur%%://*}:// n
            _corkscrewpp_hosts "${cur#*://}"
            for n in "${!COMPREPLY[@]}"; do
                COMPREPLY[n]=$scheme${COMPREPLY[n]}
            done
        else
            mapfile -t COMPREPLY < <(compgen -W 'http:// https://' -- "$cur")
        fi
        compopt -o nospace 2>/dev/null
        ;;
    esac
    # Numbers (timeouts, descriptors, ports), headers, the user agent, ssh
    # options and listen addresses: nothing to offer.
    return 0
}

_corkscrewpp() {
    local cur prev words cword split=false
    COMPREPLY=()
    if declare -F _init_completion >/dev/null; then
        _init_completion -s -n : || return
    else
        _corkscrewpp_split_words
        if [[ $cur == --?*=* ]]; then
            prev=${cur%%=*}
            cur=${cur#*=}
            split=true
        fi
    fi

    # Walk the words before the current one: which option waits for its value,
    # how many arguments (DESTHOST DESTPORT ...) there are, whether -- came.
    local i w k pending='' nargs=0 dashdash=false
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        if [[ -n $pending ]]; then
            pending=
        elif $dashdash || [[ $w != -?* ]]; then
            ((nargs++))
        elif [[ $w == -- ]]; then
            dashdash=true
        elif [[ $w == --* ]]; then
            [[ $w != *=* && " ${_corkscrewpp_value_options//$'\n'/ } " == *" $w "* ]] && pending=$w
        else
            # A cluster of short options: the first that takes a value takes
            # the rest of the word, or the next word.
            for ((k = 1; k < ${#w}; k++)); do
                if [[ $_corkscrewpp_short_value_letters == *"${w:k:1}"* ]]; then
                    ((k == ${#w} - 1)) && pending=-${w:k:1}
                    break
                fi
            done
        fi
    done

    if $split; then
        _corkscrewpp_value "$prev"
    elif [[ -n $pending ]]; then
        _corkscrewpp_value "$pending"
    elif ! $dashdash && [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$_corkscrewpp_value_options $_corkscrewpp_flag_options" -- "$cur")
    else
        # corkscrew++ [OPTIONS] DESTHOST DESTPORT, or the corkscrew form
        # PROXYHOST PROXYPORT DESTHOST DESTPORT [AUTHFILE].
        case $nargs in
        0 | 2) _corkscrewpp_hosts "$cur" ;;
        1 | 3) mapfile -t COMPREPLY < <(compgen -W '22 443' -- "$cur") ;;
        4) _corkscrewpp_files ;;
        esac
    fi

    # Like bash-completion's __ltrim_colon_completions: bash replaces only what
    # follows the last ':' of the word.
    if [[ $cur == *:* && $COMP_WORDBREAKS == *:* ]]; then
        local colon_word=${cur%"${cur##*:}"}
        for i in "${!COMPREPLY[@]}"; do
            COMPREPLY[i]=${COMPREPLY[i]#"$colon_word"}
        done
    fi
    return 0
}

complete -F _corkscrewpp corkscrew++

# ex: filetype=sh
