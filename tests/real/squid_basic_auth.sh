#!/usr/bin/env bash
# ssh through squid with Basic authentication (basic_ncsa_auth), passwords
# containing ':' and a space, credentials from each source the program reads;
# squid's access.log must name the user of each CONNECT. Then the failures:
# wrong password (exit 5, proxy named, password never printed even with -vv)
# and no credentials at all (exit 5).
set -euo pipefail
RT_NAME=squid_basic_auth
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
unset CORKSCREW_AUTH
rt_start_sshd

HTPASSWD=$RT_DIR/htpasswd
# One user per credential source, so that the access.log line proves which
# credentials reached squid.
ALICE_PASS='al:ice pass'  # corkscrew form, AUTHFILE argument
BOB_PASS='b:ob pass'      # --auth-file
CAROL_PASS='car:ol pass'  # CORKSCREW_AUTH
DAVE_PASS='d:ave p@ss'    # -x URL userinfo, percent-encoded
DAVE_PASS_ENCODED='d%3Aave%20p%40ss'
WRONG_PASS='Wr0ng:not this'
rt_htpasswd "$HTPASSWD" alice "$ALICE_PASS"
rt_htpasswd "$HTPASSWD" bob "$BOB_PASS"
rt_htpasswd "$HTPASSWD" carol "$CAROL_PASS"
rt_htpasswd "$HTPASSWD" dave "$DAVE_PASS"
rt_start_squid --auth "$HTPASSWD"
PROXY_URL=http://127.0.0.1:$SQUID_PORT

check_corkscrew_authfile() {
    local file
    file=$(rt_write_auth_file alice alice "$ALICE_PASS")
    rt_expect_ssh_as alice "$(rt_proxycmd 127.0.0.1 "$SQUID_PORT" %h %p "$file")"
}

check_option_auth_file() {
    local file
    file=$(rt_write_auth_file bob bob "$BOB_PASS")
    rt_expect_ssh_as bob "$(rt_proxycmd -x "$PROXY_URL" --auth-file "$file" %h %p)"
}

check_env_auth() {
    export CORKSCREW_AUTH="carol:$CAROL_PASS"
    rt_expect_ssh_as carol "$(rt_proxycmd -x "$PROXY_URL" %h %p)"
}

check_url_userinfo() {
    rt_expect_ssh_as dave "$(rt_proxycmd -x "http://dave:$DAVE_PASS_ENCODED@127.0.0.1:$SQUID_PORT" %h %p)"
}

# The program ran with a wrong password: exit 5, the proxy named, and neither
# the password nor its Basic encoding in stderr.
expect_auth_failure() {
    local user=$1 ok=0 leaked=0
    rt_expect_exit 5 "127.0.0.1:$SQUID_PORT" || ok=1
    rt_expect_file_lacks "stderr" "$RT_ERR" "$WRONG_PASS" || leaked=1
    rt_expect_file_lacks "stderr" "$RT_ERR" "Wr0ng" || leaked=1
    rt_expect_file_lacks "stderr" "$RT_ERR" "$(printf "%s:%s" "$user" "$WRONG_PASS" | base64 -w0)" || leaked=1
    if ((leaked)); then rt_show_file "program stderr" "$RT_ERR"; fi
    return "$((ok || leaked))"
}

check_wrong_password_auth_file() {
    local file
    file=$(rt_write_auth_file alice alice "$WRONG_PASS")
    rt_run_program wrong_auth_file -vv -x "$PROXY_URL" --auth-file "$file" 127.0.0.1 "$SSHD_PORT"
    expect_auth_failure alice
}

check_wrong_password_corkscrew_form() {
    local file
    file=$(rt_write_auth_file alice alice "$WRONG_PASS")
    rt_run_program wrong_corkscrew -vv 127.0.0.1 "$SQUID_PORT" 127.0.0.1 "$SSHD_PORT" "$file"
    expect_auth_failure alice
}

check_wrong_password_url() {
    rt_run_program wrong_url -vv -x "http://alice:Wr0ng%3Anot%20this@127.0.0.1:$SQUID_PORT" 127.0.0.1 "$SSHD_PORT"
    expect_auth_failure alice
}

check_no_credentials() {
    local ok=0
    rt_run_program none_corkscrew 127.0.0.1 "$SQUID_PORT" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 5 "127.0.0.1:$SQUID_PORT" || ok=1
    rt_run_program none_modern -x "$PROXY_URL" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 5 "127.0.0.1:$SQUID_PORT" || ok=1
    return "$ok"
}

rt_check "(a) corkscrew form with AUTHFILE" check_corkscrew_authfile
rt_check "(b) -x URL --auth-file FILE" check_option_auth_file
rt_check "(c) -x URL with CORKSCREW_AUTH" check_env_auth
rt_check "(d) -x URL with percent-encoded user:password@" check_url_userinfo
rt_check "(e) wrong password, --auth-file, -vv: exit 5, password not shown" check_wrong_password_auth_file
rt_check "(e) wrong password, corkscrew AUTHFILE, -vv: exit 5, password not shown" check_wrong_password_corkscrew_form
rt_check "(e) wrong password in the URL, -vv: exit 5, password not shown" check_wrong_password_url
rt_check "(f) no credentials: exit 5" check_no_credentials
rt_finish
