#!/usr/bin/env bash
# ssh through squid with Digest authentication (digest_file_auth), with
# credentials from each source the program reads (auth file, also with
# per-proxy lines; CORKSCREW_AUTH; URL; netrc; corkscrew's AUTHFILE; and
# SSH_ASKPASS when nothing has a password); squid's access.log must name the
# user of each CONNECT. 64 MiB up and down through it. Then the failures:
# wrong password (exit 5, proxy named, and at -vvv neither the password, nor
# its Basic encoding, nor the Digest HA1 printed) and credential files that
# others can read (exit 2, "chmod"). Last, a squid offering Basic and Digest
# (Basic first): the program must take Digest unless told `--auth basic`.
set -euo pipefail
RT_NAME=squid_digest
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
rt_require_commands md5sum base64
unset CORKSCREW_AUTH SSH_ASKPASS SSH_ASKPASS_REQUIRE
# No ~/.netrc of whoever runs the tests may answer for the test proxies.
export HOME=$RT_DIR/home
mkdir -p "$HOME"
rt_start_sshd

# One user per credential source, so that the access.log line proves which
# credentials reached squid. digest_file_auth cuts passwords at ':', so they
# hold spaces and '@' instead; a netrc password is one word.
ALICE_PASS='al ice pass'  # --auth-file
BOB_PASS='b ob pass'      # CORKSCREW_AUTH
CAROL_PASS='car ol p@ss'  # -x URL userinfo, percent-encoded
CAROL_PASS_ENCODED='car%20ol%20p%40ss'
DAVE_PASS='dave-netrc-pass'  # --netrc-file
ERIN_PASS='er in pass'    # the 64 MiB transfers
GINA_PASS='gi na pass'    # corkscrew form, AUTHFILE argument
HANK_PASS='ha nk pass'    # auth file with per-proxy lines
IVY_PASS='i vy pass'      # SSH_ASKPASS
WRONG_PASS='Wr0ng not this'
DIGEST_FILE=$RT_DIR/digest-passwords
rt_digest_file "$DIGEST_FILE" alice "$ALICE_PASS" bob "$BOB_PASS" carol "$CAROL_PASS" \
    dave "$DAVE_PASS" erin "$ERIN_PASS" gina "$GINA_PASS" hank "$HANK_PASS" \
    ivy "$IVY_PASS"
rt_start_squid --digest "$DIGEST_FILE"
DIGEST_PORT=$SQUID_PORT
PROXY_URL=http://127.0.0.1:$DIGEST_PORT

check_auth_file() {
    local file
    file=$(rt_write_auth_file alice alice "$ALICE_PASS")
    rt_expect_ssh_as alice "$(rt_proxycmd -x "$PROXY_URL" --auth-file "$file" %h %p)"
}

check_env_auth() {
    export CORKSCREW_AUTH="bob:$BOB_PASS"
    rt_expect_ssh_as bob "$(rt_proxycmd -x "$PROXY_URL" %h %p)"
}

check_url_userinfo() {
    rt_expect_ssh_as carol "$(rt_proxycmd -x "http://carol:$CAROL_PASS_ENCODED@127.0.0.1:$DIGEST_PORT" %h %p)"
}

check_netrc_file() {
    local netrc=$RT_DIR/netrc
    printf 'machine 127.0.0.1 login dave password %s\n' "$DAVE_PASS" >"$netrc"
    chmod 600 "$netrc"
    rt_expect_ssh_as dave "$(rt_proxycmd -x "$PROXY_URL" --netrc-file "$netrc" %h %p)"
}

# An auth file with a line for another proxy, one for this proxy and a
# fallback line: the line for this proxy must win.
check_auth_file_per_proxy() {
    local file=$RT_DIR/per-proxy.auth
    {
        echo "# credentials per proxy"
        echo "proxy proxy.invalid:$DIGEST_PORT alice:$WRONG_PASS"
        echo ""
        echo "proxy 127.0.0.1:$DIGEST_PORT hank:$HANK_PASS"
        echo "bob:$WRONG_PASS"
    } >"$file"
    chmod 600 "$file"
    rt_expect_ssh_as hank "$(rt_proxycmd -x "$PROXY_URL" --auth-file "$file" %h %p)"
}

# corkscrew's form sends Basic before any challenge; squid answers with its
# Digest challenge, which the program must then meet.
check_corkscrew_authfile() {
    local file
    file=$(rt_write_auth_file gina gina "$GINA_PASS")
    rt_expect_ssh_as gina "$(rt_proxycmd 127.0.0.1 "$DIGEST_PORT" %h %p "$file")"
}

# No password anywhere, no terminal: the program asks SSH_ASKPASS (forced, as
# there is no display), with a prompt naming the user and the proxy.
check_askpass() {
    local askpass=$RT_DIR/askpass prompt=$RT_DIR/askpass.prompt mark ok=0
    cat >"$askpass" <<'SCRIPT'
#!/bin/sh
printf '%s\n' "$1" >"$TEST_ASKPASS_PROMPT"
printf '%s\n' "$TEST_ASKPASS_ANSWER"
SCRIPT
    chmod 700 "$askpass"
    export SSH_ASKPASS=$askpass SSH_ASKPASS_REQUIRE=force
    export TEST_ASKPASS_PROMPT=$prompt TEST_ASKPASS_ANSWER=$IVY_PASS
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    rt_run_program askpass -x "http://ivy@127.0.0.1:$DIGEST_PORT" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 0 || ok=1
    rt_expect_file_contains "SSH_ASKPASS prompt" "$prompt" "ivy" || ok=1
    rt_expect_file_contains "SSH_ASKPASS prompt" "$prompt" "127.0.0.1:$DIGEST_PORT" || ok=1
    rt_wait_squid_connect "127.0.0.1:$SSHD_PORT" ivy "$mark" >/dev/null || {
        echo "    squid's access.log has no new CONNECT for ivy" >&2
        rt_show_file "squid access.log" "$SQUID_ACCESS_LOG"
        ok=1
    }
    return "$ok"
}

# The program ran as USER with WRONG_PASS: exit 5, the proxy named, and
# neither the password, nor its Basic encoding, nor the Digest HA1 (MD5 of
# user:realm:password) in stderr.
expect_auth_failure() {
    local user=$1 ok=0 leaked=0 ha1
    ha1=$(printf '%s:%s:%s' "$user" "$RT_SQUID_REALM" "$WRONG_PASS" | md5sum | cut -d' ' -f1)
    rt_expect_exit 5 "127.0.0.1:$DIGEST_PORT" || ok=1
    rt_expect_file_lacks "stderr" "$RT_ERR" "$WRONG_PASS" || leaked=1
    rt_expect_file_lacks "stderr" "$RT_ERR" "Wr0ng" || leaked=1
    rt_expect_file_lacks "stderr" "$RT_ERR" "$(printf '%s:%s' "$user" "$WRONG_PASS" | base64 -w0)" || leaked=1
    rt_expect_file_lacks "stderr (Digest HA1)" "$RT_ERR" "$ha1" || leaked=1
    rt_expect_file_lacks "stderr (Digest HA1)" "$RT_ERR" "${ha1^^}" || leaked=1
    if ((leaked)); then rt_show_file "program stderr" "$RT_ERR"; fi
    return "$((ok || leaked))"
}

check_wrong_password_auth_file() {
    local file
    file=$(rt_write_auth_file wrong alice "$WRONG_PASS")
    rt_run_program wrong_auth_file -vvv -x "$PROXY_URL" --auth-file "$file" 127.0.0.1 "$SSHD_PORT"
    expect_auth_failure alice
}

check_wrong_password_url() {
    rt_run_program wrong_url -vvv -x "http://alice:Wr0ng%20not%20this@127.0.0.1:$DIGEST_PORT" 127.0.0.1 "$SSHD_PORT"
    expect_auth_failure alice
}

# A credentials file of MODE is refused before use: exit 2, the file named,
# and the fix ("chmod") given.
expect_refused_file() {
    local file=$1 mode=$2
    rt_expect_exit 2 "chmod" "$file" || return 1
    rt_expect_eq "mode of $file (the program must not change it)" "$mode" "$(stat -c %a "$file")"
}

check_open_auth_file() {
    local file mode ok=0
    for mode in 644 640; do
        file=$(rt_write_auth_file "open-$mode" alice "$ALICE_PASS")
        chmod "$mode" "$file"
        rt_run_program "open_auth_file_$mode" -x "$PROXY_URL" --auth-file "$file" 127.0.0.1 "$SSHD_PORT"
        expect_refused_file "$file" "$mode" || ok=1
    done
    return "$ok"
}

check_open_netrc_file() {
    local netrc=$RT_DIR/netrc-open
    printf 'machine 127.0.0.1 login dave password %s\n' "$DAVE_PASS" >"$netrc"
    chmod 644 "$netrc"
    rt_run_program open_netrc -x "$PROXY_URL" --netrc-file "$netrc" 127.0.0.1 "$SSHD_PORT"
    expect_refused_file "$netrc" 644
}

rt_check "(a) -x URL --auth-file FILE" check_auth_file
rt_check "(a) -x URL --auth-file FILE with per-proxy lines" check_auth_file_per_proxy
rt_check "(b) -x URL with CORKSCREW_AUTH" check_env_auth
rt_check "(c) -x URL with percent-encoded user:password@" check_url_userinfo
rt_check "(d) -x URL --netrc-file FILE" check_netrc_file
rt_check "corkscrew form with AUTHFILE (preemptive Basic, then Digest)" check_corkscrew_authfile
rt_check "-x http://user@ URL, no terminal: password from SSH_ASKPASS" check_askpass
# (e)
rt_make_data 64
rt_check_transfers "$(rt_proxycmd -x "$PROXY_URL" --auth-file "$(rt_write_auth_file erin erin "$ERIN_PASS")" %h %p)" \
    " through Digest squid"
rt_check "(f) wrong password, --auth-file, -vvv: exit 5, no password, no HA1" check_wrong_password_auth_file
rt_check "(f) wrong password in the URL, -vvv: exit 5, no password, no HA1" check_wrong_password_url
rt_check "(g) auth file readable by group or others: exit 2, chmod" check_open_auth_file
rt_check "(g) netrc file readable by others: exit 2, chmod" check_open_netrc_file

# --- a squid offering Basic and Digest -----------------------------------------

# frank has one password for Basic and another for Digest: a success with one
# of them proves which scheme the program used.
FRANK_BASIC_PASS='frank basic'
FRANK_DIGEST_PASS='frank digest'
BOTH_HTPASSWD=$RT_DIR/both-htpasswd
BOTH_DIGEST_FILE=$RT_DIR/both-digest-passwords
rt_htpasswd "$BOTH_HTPASSWD" frank "$FRANK_BASIC_PASS"
rt_digest_file "$BOTH_DIGEST_FILE" frank "$FRANK_DIGEST_PASS"
rt_start_squid --auth "$BOTH_HTPASSWD" --digest "$BOTH_DIGEST_FILE"
BOTH_URL=http://127.0.0.1:$SQUID_PORT

# What the program says at -vv when it answers with SCHEME: its own words or
# the (redacted) header it sends.
scheme_pattern() {
    printf 'answering with %s|with %s credentials|using %s|Proxy-Authorization: %s' "$1" "$1" "$1" "$1"
}

# expect_scheme PASSWORD SCHEME OTHER [ARGS...]: ssh echo ok through the
# program with -vv and ARGS, as frank with PASSWORD. The program's stderr must
# say it answers with SCHEME, never with OTHER; squid must log frank's CONNECT
# with no refused attempt (407) of frank's before it.
expect_scheme() {
    local pass=$1 scheme=$2 other=$3 file proxycmd err=$RT_DIR/both-$BASHPID.stderr out rc=0 before
    shift 3
    file=$(rt_write_auth_file "frank-$BASHPID" frank "$pass")
    proxycmd=$(rt_proxycmd -vv -x "$BOTH_URL" --auth-file "$file" "$@" %h %p)
    rt_say "ProxyCommand: $proxycmd"
    before=$(rt_log_lines "$SQUID_ACCESS_LOG")
    out=$(ssh_via "$proxycmd" echo ok 2>"$err") || rc=$?
    if ((rc != 0)) || [[ $out != ok ]]; then
        printf '    ssh exited with %d, printed [%s]\n' "$rc" "$out" >&2
        rt_show_file "ssh stderr (the program's stderr included)" "$err"
        return 1
    fi
    rt_wait_squid_connect "127.0.0.1:$SSHD_PORT" frank "$before" >/dev/null || {
        echo "    squid's access.log has no new CONNECT for frank" >&2
        rt_show_file "squid access.log" "$SQUID_ACCESS_LOG"
        return 1
    }
    if tail -n "+$((before + 1))" "$SQUID_ACCESS_LOG" | grep -q "TCP_DENIED/407 .* frank "; then
        echo "    squid refused one of frank's attempts (a wrong scheme tried first?)" >&2
        rt_show_file "squid access.log" "$SQUID_ACCESS_LOG"
        return 1
    fi
    if ! grep -qiE -- "$(scheme_pattern "$scheme")" "$err" || grep -qiE -- "$(scheme_pattern "$other")" "$err"; then
        printf '    program stderr (-vv): expected it to answer with %s, not %s\n' "$scheme" "$other" >&2
        rt_show_file "ssh stderr (the program's stderr included)" "$err"
        return 1
    fi
    rt_say "program said: $(grep -iE -- "$(scheme_pattern "$scheme")" "$err" | head -n 1)"
}

check_prefers_digest() {
    expect_scheme "$FRANK_DIGEST_PASS" Digest Basic
}

check_auth_basic() {
    expect_scheme "$FRANK_BASIC_PASS" Basic Digest --auth basic
}

check_auth_digest() {
    expect_scheme "$FRANK_DIGEST_PASS" Digest Basic --auth digest
}

rt_check "Basic and Digest offered (Basic first): Digest chosen" check_prefers_digest
rt_check "Basic and Digest offered: --auth basic uses Basic" check_auth_basic
rt_check "Basic and Digest offered: --auth digest uses Digest" check_auth_digest
rt_finish
