#!/usr/bin/env bash
# `ProxyCommand corkscrew++ %h %p` with nothing but environment variables:
# through squid from https_proxy, through a chain of three from
# CORKSCREW_PROXY, directly to sshd when no_proxy matches (the proxy variable
# then names a closed port, so only a direct connection can work), directly
# when nothing is set; --require-proxy refuses to go direct, --no-env ignores
# the variables.
set -euo pipefail
RT_NAME=environment
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
unset CORKSCREW_AUTH
rt_start_sshd
rt_start_squid
NEAR_PORT=$SQUID_PORT
NEAR_LOG=$SQUID_ACCESS_LOG
rt_start_tinyproxy
rt_start_squid
FAR_PORT=$SQUID_PORT
FAR_LOG=$SQUID_ACCESS_LOG
rt_free_port
CLOSED_PORT=$RT_PORT

PLAIN=$(rt_proxycmd %h %p)

# ssh through PLAIN must leave a CONNECT to sshd in squid's log FILE.
expect_ssh_through() {
    rt_expect_ssh_via_squid "$1" "$PLAIN"
}

check_https_proxy() {
    https_proxy=http://127.0.0.1:$NEAR_PORT expect_ssh_through "$NEAR_LOG"
}

check_http_proxy_lowercase_only() {
    # HTTP_PROXY is not read (as curl): it names a closed port, and the tunnel still works.
    http_proxy=http://127.0.0.1:$NEAR_PORT HTTP_PROXY=http://127.0.0.1:$CLOSED_PORT \
        expect_ssh_through "$NEAR_LOG"
}

check_chain_of_three() {
    CORKSCREW_PROXY="http://127.0.0.1:$NEAR_PORT, 127.0.0.1:$TINYPROXY_PORT, http://127.0.0.1:$FAR_PORT" \
        https_proxy=http://127.0.0.1:$CLOSED_PORT expect_ssh_through "$FAR_LOG"
    rt_expect_file_contains "near squid's log" "$NEAR_LOG" "CONNECT 127.0.0.1:$TINYPROXY_PORT"
}

check_no_proxy_goes_direct() {
    local mark
    mark=$(rt_log_lines "$NEAR_LOG")
    https_proxy=http://127.0.0.1:$CLOSED_PORT no_proxy="example.com, 127.0.0.0/8" \
        rt_expect_ssh_echo_ok "$PLAIN"
    rt_expect_eq "new lines in squid's log" "$mark" "$(rt_log_lines "$NEAR_LOG")"
}

check_no_proxy_uppercase_and_port() {
    https_proxy=http://127.0.0.1:$CLOSED_PORT NO_PROXY="127.0.0.1:$SSHD_PORT" \
        rt_expect_ssh_echo_ok "$PLAIN"
}

check_no_proxy_other_port_uses_proxy() {
    https_proxy=http://127.0.0.1:$NEAR_PORT no_proxy="127.0.0.1:$CLOSED_PORT" \
        expect_ssh_through "$NEAR_LOG"
}

check_nothing_set_goes_direct() {
    rt_expect_ssh_echo_ok "$PLAIN"
}

check_verbose_says_why() {
    https_proxy=http://127.0.0.1:$CLOSED_PORT no_proxy=.example.org,127.0.0.1 \
        rt_run_program direct-verbose -v -w 1 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 0 "no_proxy entry '127.0.0.1' matches 127.0.0.1:$SSHD_PORT" "direct"
}

check_require_proxy() {
    https_proxy=http://127.0.0.1:$NEAR_PORT no_proxy=127.0.0.1 \
        rt_run_program required --require-proxy 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 2 "--require-proxy" "no_proxy entry '127.0.0.1'"
}

check_no_env() {
    https_proxy=http://127.0.0.1:$CLOSED_PORT \
        rt_expect_ssh_echo_ok "$(rt_proxycmd --no-env %h %p)"
}

check_bad_variable() {
    all_proxy=socks5://127.0.0.1:1080 rt_run_program bad 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 2 "all_proxy" "socks5"
}

rt_check "https_proxy alone: ssh through squid" check_https_proxy
rt_check "http_proxy read, HTTP_PROXY not" check_http_proxy_lowercase_only
rt_check "CORKSCREW_PROXY with a chain of three, before https_proxy" check_chain_of_three
rt_check "no_proxy CIDR matches: direct to sshd, squid not used" check_no_proxy_goes_direct
rt_check "NO_PROXY with the destination's port: direct" check_no_proxy_uppercase_and_port
rt_check "no_proxy for another port: through the proxy" check_no_proxy_other_port_uses_proxy
rt_check "no proxy variable: direct" check_nothing_set_goes_direct
rt_check "-v says which no_proxy entry chose a direct connection" check_verbose_says_why
rt_check "--require-proxy refuses a direct connection: exit 2" check_require_proxy
rt_check "--no-env ignores https_proxy" check_no_env
rt_check "an unusable proxy variable: exit 2 naming it" check_bad_variable
rt_finish
