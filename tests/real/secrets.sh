#!/usr/bin/env bash
# No secret leaks: every auth scheme (Basic, Digest, Negotiate) with every credential source
# (the proxy URL's user:password, --auth-file with a plain line and with `proxy HOST:PORT` lines,
# the corkscrew form's AUTHFILE, CORKSCREW_AUTH, --netrc-file, ~/.netrc, SSH_ASKPASS, and a
# Proxy-Authorization header given with -H; a Kerberos ticket for Negotiate), in every mode (the
# relay, --probe and --probe --json, a wrong password, a chain of two proxies, -L, ssh with
# ProxyCommand), at the highest verbosity (-vvv, ssh -vvv). Then everything the program wrote
# (its stdout and stderr, ssh's stderr, which holds the program's, squid's access.log and sshd's
# log) is searched for: each password (and a piece of it, which also catches its %-encoded
# form), its Base64 alone and as Basic's user:password, the Digest HA1 of each user (MD5,
# SHA-256 and SHA-512/256, hex in either case), each Negotiate token that went on the wire
# (squid logs the header it received), and the Kerberos tickets and session keys of the ticket
# cache (Base64 at each of the three alignments, and hex). A find names the file and line, with
# every secret on that line masked. First, the search itself must find each of those secrets
# planted in a scratch file; and each kind of secret looked for must be what went on the wire
# (Basic's token and the Digest response computed from the HA1 match squid's log, the
# Negotiate token holds the cache's ticket).
# While a listener (-L) holds credentials (a password in its URL, one from an auth file, a
# Kerberos context): its argument list shows no password, core dumps are off (RLIMIT_CORE 0,
# soft and hard) and it is not dumpable (PR_SET_DUMPABLE 0: its /proc/PID files then belong to
# root, which tells only for a process not run by root, so as root the listeners run as
# `nobody`).
set -euo pipefail
RT_NAME=secrets
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
rt_require_commands base64 md5sum sha256sum od openssl kvno jq
unset CORKSCREW_AUTH SSH_ASKPASS SSH_ASKPASS_REQUIRE DISPLAY WAYLAND_DISPLAY
# No ~/.netrc of whoever runs the tests may answer for the test proxies; the ~/.netrc source
# gets a HOME of its own.
EMPTY_HOME=$RT_DIR/home
mkdir -p "$EMPTY_HOME"
export HOME=$EMPTY_HOME

# --- the secrets ------------------------------------------------------------------------------

# Distinctive passwords: ':' and a space in Basic's (digest_file_auth cuts a password at ':', so
# Digest's has spaces only), and wrong ones for the failures. Each starts with a piece that is
# searched for alone (PIECE_*): a password cut at a blank or a colon, or %-encoded, still shows.
PW_BASIC='Pw-7f3a!x:y z'
PW_DIGEST='Dg-9c1e!x y z'
WRONG_BASIC='Wx-5e2b!q:r s'
WRONG_DIGEST='Wd-4a7c!q r s'
PIECE_BASIC=Pw-7f3a
PIECE_DIGEST=Dg-9c1e
PIECE_WRONG_BASIC=Wx-5e2b
PIECE_WRONG_DIGEST=Wd-4a7c

# The credential sources, one user each per scheme (b-SOURCE for Basic, d-SOURCE for Digest), so
# that squid's log proves which credentials came. -H carries a Basic header only.
BASIC_SOURCES=(url file lines corkscrew env netrc-file netrc askpass header)
DIGEST_SOURCES=(url file lines corkscrew env netrc-file netrc askpass)
# Listeners (never prompt), the chain and ssh use users of their own.
EXTRA_BASIC_USERS=(b-listen b-chain b-ssh)
EXTRA_DIGEST_USERS=(d-listen d-chain d-ssh)

# %-encode a string for the user information of a URL.
urlencode() {
    local s=$1 out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case $c in
            [A-Za-z0-9._~-]) out+=$c ;;
            *) printf -v c '%%%02X' "'$c"; out+=$c ;;
        esac
    done
    printf '%s\n' "$out"
}

b64() { printf '%s' "$1" | base64 -w0; }
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
md5() { printf '%s' "$1" | md5sum | cut -d' ' -f1; }
sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
sha512_256() { printf '%s' "$1" | openssl dgst -sha512-256 -r 2>/dev/null | cut -d' ' -f1; }

# The needles: NEEDLE_VALUE[i] is a secret, NEEDLE_LABEL[i] says what it is (shown in place of
# the secret). Set in this shell, before the searches (the checks run in subshells).
NEEDLE_VALUE=()
NEEDLE_LABEL=()
declare -A NEEDLE_SEEN=()
add_needle() {
    local label=$1 value=$2
    [[ -n $value ]] || return 0
    ((${#value} >= 6)) || rt_die "needle '$label' is too short to search for"
    [[ -z ${NEEDLE_SEEN[$value]:-} ]] || return 0
    NEEDLE_SEEN[$value]=1
    NEEDLE_VALUE+=("$value")
    NEEDLE_LABEL+=("$label")
}

# A hex string, in lower and upper case.
add_hex_needle() {
    add_needle "$1" "${2,,}"
    add_needle "$1" "${2^^}"
}

# Everything derived from USER's PASSWORD (labelled NAME) that must never be shown.
add_password_needles() {
    local name=$1 user=$2 pass=$3 ha1
    add_needle "$name" "$pass"
    add_needle "Base64 of $name" "$(b64 "$pass")"
    add_hex_needle "hex of $name" "$(hex "$pass")"
    add_needle "Basic token of $user:$name" "$(b64 "$user:$pass")"
    add_hex_needle "Digest HA1 (MD5) of $user" "$(md5 "$user:$RT_SQUID_REALM:$pass")"
    add_hex_needle "Digest HA1 (SHA-256) of $user" "$(sha256 "$user:$RT_SQUID_REALM:$pass")"
    ha1=$(sha512_256 "$user:$RT_SQUID_REALM:$pass")
    if [[ -n $ha1 ]]; then add_hex_needle "Digest HA1 (SHA-512-256) of $user" "$ha1"; fi
}

add_scheme_needles() {
    local scheme=$1 pass=$2 wrong=$3 user
    shift 3
    for user in "$@"; do
        add_password_needles "the $scheme password" "$user" "$pass"
        add_password_needles "the wrong $scheme password" "$user" "$wrong"
    done
}

basic_users=()
digest_users=()
for s in "${BASIC_SOURCES[@]}"; do basic_users+=("b-$s"); done
for s in "${DIGEST_SOURCES[@]}"; do digest_users+=("d-$s"); done
basic_users+=("${EXTRA_BASIC_USERS[@]}")
digest_users+=("${EXTRA_DIGEST_USERS[@]}")
add_scheme_needles Basic "$PW_BASIC" "$WRONG_BASIC" "${basic_users[@]}"
add_scheme_needles Digest "$PW_DIGEST" "$WRONG_DIGEST" "${digest_users[@]}"
for p in "$PW_BASIC" "$PW_DIGEST" "$WRONG_BASIC" "$WRONG_DIGEST"; do
    e=$(urlencode "$p")
    add_needle "a password, %-encoded" "$e"
    add_needle "the end of a password, %-encoded" "${e#*%21}"
done
add_needle "a piece of the Basic password" "$PIECE_BASIC"
add_needle "a piece of the Digest password" "$PIECE_DIGEST"
add_needle "a piece of the wrong Basic password" "$PIECE_WRONG_BASIC"
add_needle "a piece of the wrong Digest password" "$PIECE_WRONG_DIGEST"

# --- the search -------------------------------------------------------------------------------

# The needles for grep -F -f (one a line), and with their labels ("LABEL<TAB>SECRET", the
# longest secret first) for the awk program below.
NEEDLE_FILE=$RT_DIR/needles.list
NEEDLE_LABELS=$RT_DIR/needles.labelled
write_needles() {
    local i
    printf '%s\n' "${NEEDLE_VALUE[@]}" >"$NEEDLE_FILE"
    for i in "${!NEEDLE_VALUE[@]}"; do
        printf '%s\t%s\n' "${NEEDLE_LABEL[i]}" "${NEEDLE_VALUE[i]}"
    done | awk -F '\t' '{ print length($2) "\t" $0 }' | sort -s -rn -k1,1 | cut -f2- >"$NEEDLE_LABELS"
}

# Reads NEEDLE_LABELS, then lines FILE:LINE:TEXT (grep -Hn), or with mode=mask plain lines.
# Prints, for each, where, what was found, and the text with every secret replaced by <LABEL>
# (the longest first, again until none is left: masking one may not uncover another); with
# mode=mask, the masked line only. Exits 1 when it saw a secret.
# shellcheck disable=SC2016 # awk's own variables
SCAN_AWK='
FILENAME == labels { n++; i = index($0, "\t"); label[n] = substr($0, 1, i - 1); value[n] = substr($0, i + 1); next }
function mask(s,    k, p, q, rounds, changed) {
    for (rounds = 0; rounds < 20; rounds++) {
        changed = 0
        for (k = 1; k <= n; k++)
            while ((p = index(s, value[k])) > 0) {
                q = p + length(value[k])
                # A piece of a ticket or token: the Base64 or hex around it is more of it.
                if (label[k] ~ /^a piece of (the ticket|a Negotiate token)/) {
                    while (p > 1 && substr(s, p - 1, 1) ~ /[A-Za-z0-9+\/=]/) p--
                    while (q <= length(s) && substr(s, q, 1) ~ /[A-Za-z0-9+\/=]/) q++
                }
                s = substr(s, 1, p - 1) "<" label[k] ">" substr(s, q)
                changed = 1
            }
        if (!changed) break
    }
    return s
}
mode == "mask" { print mask($0); next }
{
    i = index($0, ":"); file = substr($0, 1, i - 1); rest = substr($0, i + 1)
    i = index(rest, ":"); line = substr(rest, 1, i - 1); text = substr(rest, i + 1)
    what = ""
    split("", seen)
    for (k = 1; k <= n; k++)
        if (index(text, value[k]) && !(label[k] in seen)) {
            seen[label[k]] = 1
            what = what (what == "" ? "" : "; ") label[k]
        }
    if (what == "") next
    if (index(file, dir "/") == 1) file = substr(file, length(dir) + 2)
    text = mask(text)
    if (length(text) > 400) text = substr(text, 1, 400) "..."
    printf "    SECRET FOUND in %s, line %s: %s\n        the line (secrets masked): %s\n", file, line, what, text
    found = 1
}
END { exit found }
'

# Print LINE with every secret in it replaced by <what it is>.
mask_line() {
    write_needles
    printf '%s\n' "$1" | LC_ALL=C awk -v mode=mask -v labels="$NEEDLE_LABELS" "$SCAN_AWK" "$NEEDLE_LABELS" -
}

# scan_files FILE...: report each line of each FILE that holds a secret: the file, the line
# number, what was found, and the line with every secret masked. Returns 1 when anything was
# found (or a file is missing), else says how much was searched.
scan_files() {
    local f ok=0 lines
    write_needles
    for f in "$@"; do
        [[ -f $f ]] || { echo "    $f: missing" >&2; ok=1; }
    done
    { grep -HnaF -f "$NEEDLE_FILE" -- "$@" 2>/dev/null || true; } |
        LC_ALL=C awk -v labels="$NEEDLE_LABELS" -v dir="$RT_DIR" "$SCAN_AWK" "$NEEDLE_LABELS" - >&2 || ok=1
    if ((ok)); then
        echo "    (the files are under $RT_DIR; RT_KEEP_TMP=1 keeps them)" >&2
        return 1
    fi
    lines=$(cat -- "$@" | wc -l)
    rt_say "searched $# file(s), $lines line(s) for ${#NEEDLE_VALUE[@]} secrets: none found"
}

# scan_outputs GLOB...: search the files the globs name (under RT_DIR); there must be some.
scan_outputs() {
    local files=() g f
    for g in "$@"; do
        for f in "$RT_DIR"/$g; do
            [[ -f $f ]] && files+=("$f")
        done
    done
    if ((${#files[@]} == 0)); then
        echo "    no output files matched: $*" >&2
        return 1
    fi
    scan_files "${files[@]}"
}

# The search must find each secret planted in a scratch file, name its file and line, and never
# print the secret itself.
check_scanner_finds_leaks() {
    local file=$RT_DIR/scanner-selftest report=$RT_DIR/scanner-selftest.report ok=0 found
    printf 'corkscrew++: leaked [%s] here\n' "${NEEDLE_VALUE[@]}" >"$file"
    if scan_files "$file" 2>"$report"; then
        echo "    the search found none of the ${#NEEDLE_VALUE[@]} planted secrets" >&2
        return 1
    fi
    found=$(grep -c '^    SECRET FOUND in scanner-selftest, line [0-9]*: ' "$report" || true)
    rt_expect_eq "planted secrets found (one report each)" "${#NEEDLE_VALUE[@]}" "$found" || ok=1
    if grep -qF -f "$NEEDLE_FILE" "$report"; then
        echo "    the search's own report shows a secret, in $(grep -cF -f "$NEEDLE_FILE" "$report") line(s)" >&2
        ok=1
    fi
    rt_say "for example: $(sed -n 1,2p "$report" | tr -s ' ' | tr '\n' ' ')"
    rm -f -- "$file"
    return "$ok"
}


# --- the servers ------------------------------------------------------------------------------

rt_start_sshd
rt_start_kdc
rt_kinit
# The service ticket into the cache now: the program takes it from there, so the ticket searched
# for is the one that goes on the wire.
kvno "$KDC_SERVICE" >"$KDC_DIR/kvno.log" 2>&1 || {
    rt_show_file kvno "$KDC_DIR/kvno.log"
    rt_die "kvno $KDC_SERVICE failed"
}

HTPASSWD=$RT_DIR/basic.htpasswd
for u in "${basic_users[@]}"; do rt_htpasswd "$HTPASSWD" "$u" "$PW_BASIC"; done
rt_start_squid --auth "$HTPASSWD" --log-auth
BASIC_PORT=$SQUID_PORT
BASIC_ACCESS_LOG=$SQUID_ACCESS_LOG
BASIC_AUTH_LOG=$SQUID_AUTH_LOG

DIGEST_USERS_FILE=$RT_DIR/digest.users
digest_args=()
for u in "${digest_users[@]}"; do digest_args+=("$u" "$PW_DIGEST"); done
rt_digest_file "$DIGEST_USERS_FILE" "${digest_args[@]}"
rt_start_squid --digest "$DIGEST_USERS_FILE" --log-auth
DIGEST_PORT=$SQUID_PORT
DIGEST_ACCESS_LOG=$SQUID_ACCESS_LOG
DIGEST_AUTH_LOG=$SQUID_AUTH_LOG

rt_start_squid --negotiate "$KDC_HTTP_KEYTAB" --log-auth
NEG_PORT=$SQUID_PORT
NEG_ACCESS_LOG=$SQUID_ACCESS_LOG
NEG_AUTH_LOG=$SQUID_AUTH_LOG
# The proxy is named as in its service principal.
NEG_URL=http://localhost:$NEG_PORT

DEST=(127.0.0.1 "$SSHD_PORT")

# SSH_ASKPASS: prints the password it is given in TEST_ASKPASS_ANSWER.
ASKPASS=$RT_DIR/askpass
cat >"$ASKPASS" <<'SCRIPT'
#!/bin/sh
printf '%s\n' "$TEST_ASKPASS_ANSWER"
SCRIPT
chmod 755 "$ASKPASS"

# --- the credential sources ---------------------------------------------------------------------

# set_source SCHEME SOURCE PASSWORD [USER]: in this (sub)shell, set PROXY_ARGS (the words before
# the destination), TAIL_ARGS (after it) and SOURCE_USER, and export what SOURCE needs, for a
# run with PASSWORD as USER (default: b-SOURCE or d-SOURCE).
set_source() {
    local scheme=$1 src=$2 pass=$3 port file other_port other_user other_pass netrc
    case $scheme in
        basic) port=$BASIC_PORT other_port=$DIGEST_PORT other_user=d-lines other_pass=$PW_DIGEST ;;
        digest) port=$DIGEST_PORT other_port=$BASIC_PORT other_user=b-lines other_pass=$PW_BASIC ;;
        *) rt_die "set_source: unknown scheme $scheme" ;;
    esac
    SOURCE_USER=${4:-${scheme:0:1}-$src}
    PROXY_ARGS=(-x "http://127.0.0.1:$port")
    TAIL_ARGS=()
    export HOME=$EMPTY_HOME
    unset CORKSCREW_AUTH SSH_ASKPASS SSH_ASKPASS_REQUIRE TEST_ASKPASS_ANSWER
    case $src in
        url)
            PROXY_ARGS=(-x "http://$SOURCE_USER:$(urlencode "$pass")@127.0.0.1:$port") ;;
        file)
            file=$(rt_write_auth_file "$SOURCE_USER-$BASHPID" "$SOURCE_USER" "$pass")
            PROXY_ARGS+=(--auth-file "$file") ;;
        lines)
            # A line for the other squid (with its secret), one for this proxy, no fallback.
            file=$RT_DIR/$SOURCE_USER-$BASHPID-lines.auth
            {
                echo "# one line per proxy"
                echo "proxy 127.0.0.1:$other_port $other_user:$other_pass"
                echo "proxy 127.0.0.1:$port $SOURCE_USER:$pass"
            } >"$file"
            chmod 600 "$file"
            PROXY_ARGS+=(--auth-file "$file") ;;
        corkscrew)
            file=$(rt_write_auth_file "$SOURCE_USER-$BASHPID" "$SOURCE_USER" "$pass")
            PROXY_ARGS=(127.0.0.1 "$port")
            TAIL_ARGS=("$file") ;;
        env)
            export CORKSCREW_AUTH="$SOURCE_USER:$pass" ;;
        netrc-file)
            netrc=$RT_DIR/$SOURCE_USER-$BASHPID.netrc
            printf 'machine 127.0.0.1 login %s password "%s"\n' "$SOURCE_USER" "$pass" >"$netrc"
            chmod 600 "$netrc"
            PROXY_ARGS+=(--netrc-file "$netrc") ;;
        netrc)
            export HOME=$RT_DIR/home-$SOURCE_USER-$BASHPID
            mkdir -p "$HOME"
            printf 'machine 127.0.0.1\n  login %s\n  password "%s"\n' "$SOURCE_USER" "$pass" >"$HOME/.netrc"
            chmod 600 "$HOME/.netrc" ;;
        askpass)
            # No terminal (setsid), no display: forced.
            export SSH_ASKPASS=$ASKPASS SSH_ASKPASS_REQUIRE=force TEST_ASKPASS_ANSWER=$pass
            PROXY_ARGS=(-x "http://$SOURCE_USER@127.0.0.1:$port") ;;
        header)
            [[ $scheme == basic ]] || rt_die "set_source: -H carries Basic only"
            PROXY_ARGS+=(-H "Proxy-Authorization: Basic $(b64 "$SOURCE_USER:$pass")") ;;
        *) rt_die "set_source: unknown source $src" ;;
    esac
}

# --- runs -------------------------------------------------------------------------------------

# expect_connect_as ACCESS_LOG USER MARK: squid logged a CONNECT to sshd for USER after line MARK.
expect_connect_as() {
    local log=$1 user=$2 mark=$3
    SQUID_ACCESS_LOG=$log rt_wait_squid_connect "127.0.0.1:$SSHD_PORT" "$user" "$mark" >/dev/null && return 0
    echo "    squid's access.log has no new CONNECT 127.0.0.1:$SSHD_PORT for user $user" >&2
    rt_show_file "squid access.log" "$log" 10
    return 1
}

# run_mode NAME MODE: run the program in MODE (relay, probe, json: right credentials; wrong,
# wrong-probe: the run must fail with exit 5) with the PROXY_ARGS of set_source; its stdout and
# stderr are RT_DIR/NAME.stdout and .stderr.
run_mode() {
    local name=$1 mode=$2 log=$3 mark ok=0
    local opts=()
    case $mode in
        relay | wrong) opts=(-vvv) ;;
        probe | wrong-probe) opts=(-vvv --probe) ;;
        json) opts=(-vvv --probe --json) ;;
    esac
    mark=$(rt_log_lines "$log")
    rt_run_program "$name" "${opts[@]}" "${PROXY_ARGS[@]}" "${DEST[@]}" "${TAIL_ARGS[@]}"
    case $mode in
        relay | probe | json)
            rt_expect_eq "exit status" 0 "$RT_RC" || ok=1
            expect_connect_as "$log" "$SOURCE_USER" "$mark" || ok=1 ;;
        wrong | wrong-probe)
            rt_expect_eq "exit status" 5 "$RT_RC" || ok=1 ;;
    esac
    case $mode in
        relay | wrong)
            # -vvv shows the headers: the one that carries the secret is there, redacted.
            rt_expect_file_contains "stderr (-vvv)" "$RT_ERR" "> Proxy-Authorization: " || ok=1 ;;
        probe | wrong-probe)
            rt_expect_file_contains "report" "$RT_OUT" "Proxy-Authorization: " || ok=1 ;;
        json)
            jq -e . "$RT_OUT" >/dev/null || { rt_show_file "not JSON" "$RT_OUT"; ok=1; } ;;
    esac
    if ((ok)); then
        rt_show_file "program stdout" "$RT_OUT" 20
        rt_show_file "program stderr" "$RT_ERR" 20
    fi
    return "$ok"
}

# check_source SCHEME SOURCE MODE
check_source() {
    local scheme=$1 src=$2 mode=$3 pass log
    case $scheme in
        basic) log=$BASIC_ACCESS_LOG pass=$PW_BASIC ;;
        digest) log=$DIGEST_ACCESS_LOG pass=$PW_DIGEST ;;
    esac
    if [[ $mode == wrong* ]]; then
        [[ $scheme == basic ]] && pass=$WRONG_BASIC || pass=$WRONG_DIGEST
    fi
    set_source "$scheme" "$src" "$pass"
    run_mode "$mode-$scheme-$src" "$mode" "$log"
}

# The modes, with the prefix of their output files.
MODES=(relay probe json wrong wrong-probe)
declare -A MODE_TITLE=(
    [relay]="relay, -vvv"
    [probe]="--probe -vvv"
    [json]="--probe --json -vvv"
    [wrong]="wrong password, -vvv: exit 5"
    [wrong-probe]="wrong password, --probe -vvv: exit 5"
)
for scheme in basic digest; do
    if [[ $scheme == basic ]]; then sources=("${BASIC_SOURCES[@]}"); else sources=("${DIGEST_SOURCES[@]}"); fi
    for mode in "${MODES[@]}"; do
        for src in "${sources[@]}"; do
            rt_check "${scheme^}, $src, ${MODE_TITLE[$mode]}" check_source "$scheme" "$src" "$mode"
        done
    done
done

# Negotiate: the ticket of rt_kinit is the credential.
check_negotiate() {
    local mode=$1
    PROXY_ARGS=(-x "$NEG_URL")
    TAIL_ARGS=()
    SOURCE_USER=$KDC_USER_PRINCIPAL
    run_mode "$mode-negotiate-ticket" "$mode" "$NEG_ACCESS_LOG"
}
for mode in relay probe json; do
    rt_check "Negotiate, Kerberos ticket, ${MODE_TITLE[$mode]}" check_negotiate "$mode"
done

# --- a chain of two proxies ---------------------------------------------------------------------

# Basic squid, then Digest squid, each with its own line of an auth file; then with each
# password in its URL; then Basic squid, then Negotiate squid.
CHAIN_AUTH=$RT_DIR/chain.auth
{
    echo "proxy 127.0.0.1:$BASIC_PORT b-chain:$PW_BASIC"
    echo "proxy 127.0.0.1:$DIGEST_PORT d-chain:$PW_DIGEST"
} >"$CHAIN_AUTH"
chmod 600 "$CHAIN_AUTH"
CHAIN_URL_NEAR=http://b-chain:$(urlencode "$PW_BASIC")@127.0.0.1:$BASIC_PORT
CHAIN_URL_FAR=http://d-chain:$(urlencode "$PW_DIGEST")@127.0.0.1:$DIGEST_PORT

# check_chain NAME MODE FAR_LOG FAR_USER ARGS...
check_chain() {
    local name=$1 mode=$2 far_log=$3 far_user=$4
    shift 4
    PROXY_ARGS=("$@")
    TAIL_ARGS=()
    SOURCE_USER=$far_user
    run_mode "chain-$mode-$name" "$mode" "$far_log"
}
for mode in relay probe; do
    rt_check "chain Basic -> Digest, auth file with a line per proxy, ${MODE_TITLE[$mode]}" \
        check_chain lines "$mode" "$DIGEST_ACCESS_LOG" d-chain \
        --auth-file "$CHAIN_AUTH" -x "http://127.0.0.1:$BASIC_PORT" -x "http://127.0.0.1:$DIGEST_PORT"
    rt_check "chain Basic -> Digest, passwords in the URLs, ${MODE_TITLE[$mode]}" \
        check_chain urls "$mode" "$DIGEST_ACCESS_LOG" d-chain -x "$CHAIN_URL_NEAR" -x "$CHAIN_URL_FAR"
    rt_check "chain Basic -> Negotiate, ${MODE_TITLE[$mode]}" \
        check_chain negotiate "$mode" "$NEG_ACCESS_LOG" "$KDC_USER_PRINCIPAL" -x "$CHAIN_URL_NEAR" -x "$NEG_URL"
done

# --- listen mode --------------------------------------------------------------------------------

# As root, the listeners run as `nobody` when that user can run the program: only for a process
# not run by root does /proc tell whether it is dumpable.
AS_OTHER=()
DUMPABLE_NOTE=""
if ((EUID == 0)); then
    if command -v setpriv >/dev/null 2>&1 && id nobody >/dev/null 2>&1; then
        nobody_group=$(id -gn nobody)
        if setpriv --reuid=nobody --regid="$nobody_group" --clear-groups "$CORKSCREW_BIN" --version >/dev/null 2>&1; then
            AS_OTHER=(setpriv --reuid=nobody --regid="$nobody_group" --clear-groups)
        else
            DUMPABLE_NOTE="user nobody cannot run $CORKSCREW_BIN"
        fi
    else
        DUMPABLE_NOTE="no setpriv or no user nobody"
    fi
fi
LISTEN_UID=$EUID
((${#AS_OTHER[@]} == 0)) || LISTEN_UID=$(id -u nobody)

# Files a listener run as another user reads are that user's.
give_to_listener() {
    if ((${#AS_OTHER[@]})); then chown nobody "$@"; fi
}

# start_listener NAME ENV ARGS...: the program with -vvv -L 0:sshd and ARGS in the background,
# in the environment plus ENV (words VAR=VALUE, space-separated; may be empty), with core dumps
# allowed up to its start (so that a limit of 0 is its own doing); wait (bounded) for its
# "listening on" line. Sets LISTEN_PID, LISTEN_PORT, LISTEN_OUT, LISTEN_ERR.
start_listener() {
    local name=$1 env_words=() line
    read -r -a env_words <<<"$2"
    shift 2
    LISTEN_OUT=$RT_DIR/$name.stdout
    LISTEN_ERR=$RT_DIR/$name.stderr
    LISTEN_PORT=""
    : >"$LISTEN_OUT"
    (
        ulimit -c unlimited 2>/dev/null || ulimit -S -c unlimited 2>/dev/null || true
        exec env "${env_words[@]}" "${AS_OTHER[@]}" "$CORKSCREW_BIN" -vvv -L "0:127.0.0.1:$SSHD_PORT" "$@"
    ) </dev/null >"$LISTEN_OUT" 2>"$LISTEN_ERR" &
    LISTEN_PID=$!
    rt_track "$LISTEN_PID" "listener $name"
    if ! rt_poll "$RT_START_TIMEOUT" "$LISTEN_PID" grep -q '^listening on ' "$LISTEN_OUT"; then
        rt_show_file "program stdout" "$LISTEN_OUT"
        rt_show_file "program stderr" "$LISTEN_ERR"
        rt_say "the listener $name printed no 'listening on' line"
        return 1
    fi
    line=$(grep -m1 '^listening on ' "$LISTEN_OUT")
    LISTEN_PORT=${line#listening on 127.0.0.1:}
    LISTEN_PORT=${LISTEN_PORT%% *}
    [[ $LISTEN_PORT =~ ^[0-9]+$ ]] || { rt_say "no port in [$line]"; return 1; }
}

# One connection through the listener: sshd's banner must come, then the listener's line for it.
one_connection() {
    local line=""
    exec 3<>"/dev/tcp/127.0.0.1/$LISTEN_PORT"
    IFS= read -r -t 10 line <&3 || true
    exec 3<&-
    if [[ $line != SSH-2.0-* ]]; then
        printf '    through the listener: expected the SSH banner, got [%s]\n' "$line" >&2
        rt_show_file "program stderr" "$LISTEN_ERR"
        return 1
    fi
    rt_poll "$RT_LOG_TIMEOUT" "$LISTEN_PID" grep -qE 'bytes received, .* s, ok' "$LISTEN_ERR" || {
        echo "    the listener logged no line for the connection" >&2
        rt_show_file "program stderr" "$LISTEN_ERR"
        return 1
    }
}

# The argument list of process PID holds no secret (the %-encoded password included).
expect_cmdline_clean() {
    local pid=$1 args file=$RT_DIR/cmdline-$1
    args=$(tr '\0' ' ' <"/proc/$pid/cmdline")
    printf '%s\n' "$args" >"$file"
    scan_files "$file" || { echo "    (that is /proc/$pid/cmdline)" >&2; return 1; }
    rt_say "its arguments: $(mask_line "$args")"
}

# Core dumps are off for process PID: RLIMIT_CORE 0, soft and hard (its parent allowed them).
expect_no_core() {
    local pid=$1 line f
    line=$(grep '^Max core file size' "/proc/$pid/limits")
    read -r -a f <<<"${line#Max core file size}"
    if [[ ${f[0]} != 0 || ${f[1]} != 0 ]]; then
        printf '    /proc/%s/limits: [%s]: expected soft 0 and hard 0 (RLIMIT_CORE set to 0 once it holds credentials)\n' \
            "$pid" "$(tr -s ' ' <<<"$line")" >&2
        return 1
    fi
}

# Process PID is not dumpable: its /proc/PID files then belong to root, whoever runs it.
expect_not_dumpable() {
    local pid=$1 owner
    if ((LISTEN_UID == 0)); then
        rt_say "SKIPPED: as root, whether a process is dumpable does not show ($DUMPABLE_NOTE)"
        return 0
    fi
    owner=$(stat -c %u "/proc/$pid/status")
    if [[ $owner != 0 ]]; then
        printf '    process %s (run by uid %s) is dumpable: /proc/%s/status belongs to uid %s, not to root (PR_SET_DUMPABLE 0 once it holds credentials)\n' \
            "$pid" "$LISTEN_UID" "$pid" "$owner" >&2
        return 1
    fi
}

# listener_checks TITLE NAME ENV ARGS...: start a listener; while it holds its credentials, its
# argument list, core limit and dumpable flag; one connection through it; the same again after
# it (a Kerberos context exists only then); SIGTERM ends it with exit status 0.
listener_checks() {
    local title=$1 name=$2 extra_env=$3 rc=0
    shift 3
    if ! start_listener "$name" "$extra_env" "$@"; then
        rt_say "FAIL: $title: the listener did not start"
        RT_FAILED+=("$title: the listener did not start")
        return 0
    fi
    rt_check "$title: /proc/PID/cmdline shows no password" expect_cmdline_clean "$LISTEN_PID"
    if [[ $name != *negotiate* ]]; then
        rt_check "$title: before any connection: core dumps off (RLIMIT_CORE 0)" expect_no_core "$LISTEN_PID"
        rt_check "$title: before any connection: not dumpable (PR_SET_DUMPABLE 0)" expect_not_dumpable "$LISTEN_PID"
    fi
    rt_check "$title: one connection" one_connection
    rt_check "$title: after it: core dumps off (RLIMIT_CORE 0)" expect_no_core "$LISTEN_PID"
    rt_check "$title: after it: not dumpable (PR_SET_DUMPABLE 0)" expect_not_dumpable "$LISTEN_PID"
    kill -TERM "$LISTEN_PID" 2>/dev/null || true
    wait "$LISTEN_PID" || rc=$?
    rt_check "$title: SIGTERM: exit status 0" rt_expect_eq "exit status" 0 "$rc"
}

if ((LISTEN_UID != EUID)); then rt_say "the listeners run as nobody (uid $LISTEN_UID)"; fi

listener_checks "-L -vvv, Basic, password in the URL" listen-basic-url "" \
    -x "http://b-listen:$(urlencode "$PW_BASIC")@127.0.0.1:$BASIC_PORT"

LISTEN_AUTH_FILE=$(rt_write_auth_file d-listen d-listen "$PW_DIGEST")
give_to_listener "$LISTEN_AUTH_FILE"
listener_checks "-L -vvv, Digest, --auth-file" listen-digest-file "" \
    -x "http://127.0.0.1:$DIGEST_PORT" --auth-file "$LISTEN_AUTH_FILE"

# The listener's own copy of the ticket cache (a cache must belong to its reader).
LISTEN_CCACHE=$RT_DIR/listen.ccache
cp "${KRB5CCNAME#FILE:}" "$LISTEN_CCACHE"
chmod 600 "$LISTEN_CCACHE"
give_to_listener "$LISTEN_CCACHE"
listener_checks "-L -vvv, Negotiate, Kerberos ticket" listen-negotiate-ticket "KRB5CCNAME=FILE:$LISTEN_CCACHE" \
    -x "$NEG_URL"

# --- ssh -vvv with the program as its ProxyCommand --------------------------------------------

# check_ssh NAME ARGS...: ssh -vvv echo ok through `corkscrew++ -vvv ARGS %h %p`. (No password on
# the ProxyCommand line: ssh -vvv prints that line, as any ps would.)
check_ssh() {
    local name=$1 err out rc=0 proxycmd
    shift
    err=$RT_DIR/ssh-$name.stderr
    proxycmd=$(rt_proxycmd -vvv "$@" %h %p)
    rt_ssh_options
    out=$(timeout "$RT_CMD_TIMEOUT" ssh "${RT_SSH_OPTS[@]}" -vvv -o "ProxyCommand=$proxycmd" \
        "$RT_USER@127.0.0.1" echo ok </dev/null 2>"$err") || rc=$?
    if ((rc != 0)) || [[ $out != ok ]]; then
        printf '    ssh exited with %d, printed [%s]\n' "$rc" "$out" >&2
        rt_show_file "ssh stderr" "$err"
        return 1
    fi
    rt_expect_file_contains "ssh stderr (ssh -vvv)" "$err" "debug3:"
    rt_expect_file_contains "ssh stderr (the program's -vvv)" "$err" "> Proxy-Authorization: "
}

check_ssh_basic() {
    local file
    file=$(rt_write_auth_file b-ssh b-ssh "$PW_BASIC")
    check_ssh basic-file -x "http://127.0.0.1:$BASIC_PORT" --auth-file "$file"
}

check_ssh_digest() {
    export CORKSCREW_AUTH="d-ssh:$PW_DIGEST"
    check_ssh digest-env -x "http://127.0.0.1:$DIGEST_PORT"
}

check_ssh_negotiate() {
    check_ssh negotiate-ticket -x "$NEG_URL"
}

rt_check "ssh -vvv, ProxyCommand -vvv, Basic, --auth-file" check_ssh_basic
rt_check "ssh -vvv, ProxyCommand -vvv, Digest, CORKSCREW_AUTH" check_ssh_digest
rt_check "ssh -vvv, ProxyCommand -vvv, Negotiate" check_ssh_negotiate

# --- the secrets that went on the wire ----------------------------------------------------------

# squid's logs end with the CONNECTs of the tunnels that closed: wait (bounded) for the last ones.
rt_wait_for_text "$BASIC_AUTH_LOG" "user=b-ssh " || true
rt_wait_for_text "$DIGEST_AUTH_LOG" "user=d-ssh " || true
rt_wait_for_text "$NEG_AUTH_LOG" "CONNECT 127.0.0.1:$SSHD_PORT user=$KDC_USER_PRINCIPAL " || true

# Basic: the token squid received for b-url is the needle.
check_basic_wire() {
    rt_expect_file_contains "Basic squid's log of the headers it received" "$BASIC_AUTH_LOG" \
        "user=b-url auth=[Basic $(b64 "b-url:$PW_BASIC")]"
}

# Digest: the response squid received for d-url, computed again from the needle HA1.
check_digest_wire() {
    local line ha1 nonce uri nc cnonce qop response expected re
    line=$(grep -F 'user=d-url auth=[Digest ' "$DIGEST_AUTH_LOG" | head -n 1) || {
        echo "    no Digest header of d-url in $DIGEST_AUTH_LOG" >&2
        return 1
    }
    field() {
        re="[ ,]$1=\"?([^\",]*)\"?"
        if [[ $line =~ $re ]]; then printf '%s\n' "${BASH_REMATCH[1]}"; fi
    }
    nonce=$(field nonce) uri=$(field uri) nc=$(field nc) cnonce=$(field cnonce) qop=$(field qop)
    response=$(field response)
    [[ $(field algorithm) == "" || $(field algorithm) == MD5 ]] || {
        echo "    the program used algorithm $(field algorithm); this check knows MD5 only" >&2
        return 1
    }
    ha1=$(md5 "d-url:$RT_SQUID_REALM:$PW_DIGEST")
    expected=$(md5 "$ha1:$nonce:$nc:$cnonce:$qop:$(md5 "CONNECT:$uri")")
    rt_expect_eq "Digest response (from the HA1 searched for)" "$expected" "$response"
    rt_say "squid offers Digest with MD5 only (squid 5 has no SHA-256); the SHA-256 and SHA-512-256 HA1 are searched for all the same"
}

# Pieces of Base64 or hex text: every CHUNK-character piece at a multiple of CHUNK from FROM on.
# A leak of at least 2 x CHUNK characters of the text holds one of them whole.
CHUNK=16
add_chunk_needles() {
    local label=$1 text=$2 from=$3 c
    for ((c = (from + CHUNK - 1) / CHUNK * CHUNK; c + CHUNK <= ${#text}; c += CHUNK)); do
        add_needle "$label" "${text:c:CHUNK}"
    done
}

# The tokens squid received for Negotiate: each one whole, and in pieces past its first 64
# characters (the headers that every token shares).
NEG_TOKENS=()
mapfile -t NEG_TOKENS < <(grep -oE 'auth=\[Negotiate [A-Za-z0-9+/=]+\]' "$NEG_AUTH_LOG" |
    sed -e 's/^auth=\[Negotiate //' -e 's/\]$//' | sort -u)
for t in "${NEG_TOKENS[@]}"; do
    add_needle "a Negotiate token sent to squid" "$t"
    add_chunk_needles "a piece of a Negotiate token sent to squid" "${t%%=*}" 64
done

# ccache_creds FILE: one line per credential of an MIT ticket cache (format 4):
# "SERVER TICKET_OFFSET TICKET_LENGTH KEY_OFFSET KEY_LENGTH" (offsets in bytes).
ccache_creds() {
    local -a b
    mapfile -t b < <(od -An -v -tu1 -w1 "$1" | tr -d ' ')
    local n=${#b[@]} p=0 R S S_OFF S_LEN i count server off len koff klen
    u16() { R=$((b[p] << 8 | b[p + 1])); p=$((p + 2)); }
    u32() { R=$((b[p] << 24 | b[p + 1] << 16 | b[p + 2] << 8 | b[p + 3])); p=$((p + 4)); }
    data() {
        local j c
        u32
        S_OFF=$p S_LEN=$R S=""
        for ((j = 0; j < R && j < 128; j++)); do printf -v c '%02x' "${b[p + j]}"; printf -v c '%b' "\\x$c"; S+=$c; done
        p=$((p + R))
    }
    principal() {
        local k name
        u32
        u32
        count=$R
        data
        P_REALM=$S
        name=""
        for ((k = 0; k < count; k++)); do data; name+=${name:+/}$S; done
        P_NAME=$name@$P_REALM
    }
    u16
    ((R == 0x0504)) || { echo "    $1: not a version 4 ticket cache" >&2; return 1; }
    u16
    p=$((p + R))
    principal
    while ((p < n)); do
        principal
        principal
        server=$P_NAME
        u16
        data
        koff=$S_OFF klen=$S_LEN
        p=$((p + 16 + 1 + 4))
        u32
        count=$R
        for ((i = 0; i < count; i++)); do u16; data; done
        u32
        count=$R
        for ((i = 0; i < count; i++)); do u16; data; done
        data
        off=$S_OFF len=$S_LEN
        data
        ((p <= n)) || { echo "    $1: cut short" >&2; return 1; }
        [[ $server == *@X-CACHECONF: ]] || printf '%s %s %s %s %s\n' "$server" "$off" "$len" "$koff" "$klen"
    done
}

bytes_at() { tail -c "+$(($2 + 1))" "$1" | head -c "$3"; }

# Needles for each ticket and session key of the ticket caches: the ticket in Base64 at each of
# the three alignments (a Base64 text holds the ticket at one of them) and in hex, each whole and
# in pieces past its first TICKET_HEAD bytes (tkt-vno, realm, service name: no secret); the key in
# hex and Base64.
TICKET_HEAD=96
KRB_TICKETS=0
for cache in "${KRB5CCNAME#FILE:}" "$LISTEN_CCACHE"; do
    [[ -f $cache ]] || continue
    while read -r server off len koff klen; do
        KRB_TICKETS=$((KRB_TICKETS + 1))
        head=$TICKET_HEAD
        ((len > 2 * head)) || head=0
        for a in 0 1 2; do
            t=$(bytes_at "$cache" $((off + a)) $(((len - a) / 3 * 3)) | base64 -w0)
            add_needle "the ticket for $server (Base64)" "$t"
            add_chunk_needles "a piece of the ticket for $server (Base64)" "$t" $(((head - a) * 4 / 3))
            t=$(bytes_at "$cache" $((koff + a)) $(((klen - a) / 3 * 3)) | base64 -w0)
            add_needle "the session key for $server (Base64)" "$t"
        done
        t=$(bytes_at "$cache" "$off" "$len" | od -An -v -tx1 | tr -d ' \n')
        add_hex_needle "the ticket for $server (hex)" "$t"
        for ((c = 2 * head; c + 2 * CHUNK <= ${#t}; c += 2 * CHUNK)); do
            add_hex_needle "a piece of the ticket for $server (hex)" "${t:c:2 * CHUNK}"
        done
        add_hex_needle "the session key for $server (hex)" "$(bytes_at "$cache" "$koff" "$klen" | od -An -v -tx1 | tr -d ' \n')"
    done < <(ccache_creds "$cache")
done

# The ticket cache holds the ticket for the proxy, and the token on the wire carries it.
check_negotiate_wire() {
    local cache=${KRB5CCNAME#FILE:} line off len token_hex ticket_hex
    ((${#NEG_TOKENS[@]})) || { echo "    no Negotiate token in $NEG_AUTH_LOG" >&2; return 1; }
    line=$(ccache_creds "$cache" | grep -F "$KDC_SERVICE ") || {
        echo "    no ticket for $KDC_SERVICE in $cache:" >&2
        ccache_creds "$cache" | sed 's/^/        /' >&2
        return 1
    }
    read -r _ off len _ <<<"$line"
    ticket_hex=$(bytes_at "$cache" "$off" "$len" | od -An -v -tx1 | tr -d ' \n')
    token_hex=$(printf '%s' "${NEG_TOKENS[0]}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
    [[ $token_hex == *"$ticket_hex"* ]] || {
        echo "    the Negotiate token squid received does not hold the cache's ticket for $KDC_SERVICE" >&2
        return 1
    }
    rt_say "${#NEG_TOKENS[@]} Negotiate token(s) from the wire; $KRB_TICKETS ticket(s) from the caches; ${#NEEDLE_VALUE[@]} secrets in all"
}

rt_check "the Basic token searched for is what squid received" check_basic_wire
rt_check "the Digest HA1 searched for gives the response squid received" check_digest_wire
rt_check "the Kerberos ticket searched for is in the Negotiate token squid received" check_negotiate_wire

# --- the searches -------------------------------------------------------------------------------

rt_check "the search finds each of the ${#NEEDLE_VALUE[@]} secrets planted in a file, and masks it" \
    check_scanner_finds_leaks
rt_check "no secret in the relay runs' stdout and stderr (-vvv)" scan_outputs 'relay-*'
rt_check "no secret in the --probe reports (-vvv)" scan_outputs 'probe-*'
rt_check "no secret in the --probe --json reports (-vvv)" scan_outputs 'json-*'
rt_check "no secret in the wrong-password runs' outputs (-vvv, --probe)" scan_outputs 'wrong-*'
rt_check "no secret in the chains' outputs (-vvv, --probe)" scan_outputs 'chain-*'
rt_check "no secret in the listeners' outputs (-vvv)" scan_outputs 'listen-*.stdout' 'listen-*.stderr' 'cmdline-*'
rt_check "no secret in ssh -vvv's stderr (with the program's -vvv)" scan_outputs 'ssh-*.stderr'
# The servers' own logs of what the program sent: squid's access.log (request lines and user
# names; the header log made for this test is left out: it holds the credentials on purpose),
# sshd's log.
check_server_logs() {
    scan_files "$BASIC_ACCESS_LOG" "$DIGEST_ACCESS_LOG" "$NEG_ACCESS_LOG" "$SSHD_LOG"
}
rt_check "no secret in squid's access.log or sshd's log" check_server_logs
rt_finish
