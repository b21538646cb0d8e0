#!/usr/bin/env bash
# ssh through squid with Negotiate (Kerberos) authentication: a throwaway MIT
# Kerberos realm on loopback, squid's negotiate_kerberos_auth with the keytab
# of HTTP/localhost, and alice's ticket (kinit with her keytab) in a ticket
# cache that reaches the program through ssh's environment (KRB5CCNAME,
# KRB5_CONFIG). squid's access.log must name alice@REALM; -vvv must not show
# her token. 64 MiB up and down through it. A squid offering Basic and
# Negotiate: Negotiate while there is a ticket, Basic once there is none. Then,
# with no ticket and no other credentials: exit 5 with a message naming the
# proxy and Negotiate.
set -euo pipefail
RT_NAME=squid_negotiate
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
unset CORKSCREW_AUTH SSH_ASKPASS SSH_ASKPASS_REQUIRE
# No ~/.netrc of whoever runs the tests may answer for the test proxy.
export HOME=$RT_DIR/home
mkdir -p "$HOME"
rt_start_sshd
rt_start_kdc
rt_kinit
rt_start_squid --negotiate "$KDC_HTTP_KEYTAB"
NEG_PORT=$SQUID_PORT
# The proxy must be called by the host name of its service principal.
PROXY_URL=http://localhost:$NEG_PORT

check_echo_ok() {
    rt_expect_ssh_as "$KDC_USER_PRINCIPAL" "$(rt_proxycmd -x "$PROXY_URL" %h %p)"
}

check_echo_ok_auth_negotiate() {
    rt_expect_ssh_as "$KDC_USER_PRINCIPAL" "$(rt_proxycmd -x "$PROXY_URL" --auth negotiate %h %p)"
}

# At -vvv the program shows its headers, but not the Kerberos token it sends.
check_token_hidden() {
    local ok=0
    rt_run_program token_hidden -vvv -x "$PROXY_URL" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 0 "Negotiate" || ok=1
    if grep -qE 'Negotiate [A-Za-z0-9+/]{16,}' "$RT_ERR"; then
        echo "    stderr (-vvv) shows a Negotiate token:" >&2
        grep -E 'Negotiate [A-Za-z0-9+/]{16,}' "$RT_ERR" | cut -c1-120 | sed 's/^/    /' >&2
        ok=1
    fi
    return "$ok"
}

# A squid offering Basic and Negotiate; bob has a Basic password in an auth
# file. With alice's ticket the program must take Negotiate (squid logs
# alice@REALM), without it fall back to Basic (squid logs bob).
BOB_PASS='b ob:pass'
BOTH_HTPASSWD=$RT_DIR/both-htpasswd
rt_htpasswd "$BOTH_HTPASSWD" bob "$BOB_PASS"
BOB_AUTH_FILE=$(rt_write_auth_file bob bob "$BOB_PASS")

check_both_prefers_negotiate() {
    rt_expect_ssh_as "$KDC_USER_PRINCIPAL" \
        "$(rt_proxycmd -x "http://localhost:$SQUID_PORT" --auth-file "$BOB_AUTH_FILE" %h %p)"
}

check_both_falls_back_to_basic() {
    rt_expect_ssh_as bob "$(rt_proxycmd -x "http://localhost:$SQUID_PORT" --auth-file "$BOB_AUTH_FILE" %h %p)"
}

destroy_ticket() {
    kdestroy >/dev/null 2>&1 || true
    if klist -s 2>/dev/null; then
        rt_die "kdestroy left a ticket in $KRB5CCNAME"
    fi
}

# Without a ticket and without any password source, the program cannot
# authenticate: exit 5, the proxy named as given, and the scheme that failed.
check_no_ticket() {
    rt_run_program no_ticket -x "$PROXY_URL" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 5 "localhost:$NEG_PORT" Negotiate
}

rt_check "ssh echo ok, Negotiate with alice's ticket" check_echo_ok
rt_check "ssh echo ok, --auth negotiate" check_echo_ok_auth_negotiate
rt_check "-vvv shows no Negotiate token" check_token_hidden
rt_make_data 64
rt_check_transfers "$(rt_proxycmd -x "$PROXY_URL" %h %p)" " through Negotiate squid"
rt_start_squid --auth "$BOTH_HTPASSWD" --negotiate "$KDC_HTTP_KEYTAB"
rt_check "Basic and Negotiate offered, ticket and password: Negotiate chosen" check_both_prefers_negotiate
destroy_ticket
rt_check "Basic and Negotiate offered, no ticket: falls back to Basic" check_both_falls_back_to_basic
rt_check "Negotiate only, ticket cache destroyed, no other credentials: exit 5" check_no_ticket
rt_finish
