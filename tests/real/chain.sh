#!/usr/bin/env bash
# Chains of real proxies: squid -> tinyproxy (2 hops) and squid -> tinyproxy ->
# squid (3 hops), each with its own credentials: Basic for the first squid,
# Basic for tinyproxy, Digest for the last squid. ssh and 64 MiB each way
# through the chain of three; each squid's log shows only its own
# credentials (and -H headers only in the nearest); a failure at each hop
# names that hop.
set -euo pipefail
RT_NAME=chain
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
unset CORKSCREW_AUTH
rt_start_sshd

rt_htpasswd "$RT_DIR/near.htpasswd" alice alice-pw
rt_start_squid --auth "$RT_DIR/near.htpasswd" --log-auth
NEAR_PORT=$SQUID_PORT
NEAR_AUTH_LOG=$SQUID_AUTH_LOG

rt_start_tinyproxy --basic-auth bob bob-pw
MIDDLE_PORT=$TINYPROXY_PORT

rt_digest_file "$RT_DIR/far.digest" carol carol-pw
rt_start_squid --digest "$RT_DIR/far.digest" --log-auth
FAR_PORT=$SQUID_PORT
FAR_AUTH_LOG=$SQUID_AUTH_LOG

rt_free_port
CLOSED_PORT=$RT_PORT

# Per-proxy lines: each password is for its proxy alone.
AUTH=$RT_DIR/chain.auth
{
    echo "proxy 127.0.0.1:$NEAR_PORT alice:alice-pw"
    echo "proxy 127.0.0.1:$MIDDLE_PORT bob:bob-pw"
    echo "proxy 127.0.0.1:$FAR_PORT carol:carol-pw"
} >"$AUTH"
chmod 600 "$AUTH"

NEAR=http://127.0.0.1:$NEAR_PORT
MIDDLE=http://127.0.0.1:$MIDDLE_PORT
FAR=http://127.0.0.1:$FAR_PORT
CHAIN3=$(rt_proxycmd --auth-file "$AUTH" -H "X-Test-Token: for-the-nearest" -x "$NEAR" -x "$MIDDLE" -x "$FAR" %h %p)

check_two_hops() {
    rt_expect_ssh_echo_ok "$(rt_proxycmd --auth-file "$AUTH" -x "$NEAR" -x "$MIDDLE" %h %p)"
}

check_three_hops() {
    rt_expect_ssh_echo_ok "$CHAIN3"
}

# Credentials in the URLs instead of the file: still each to its own proxy.
check_three_hops_url_credentials() {
    rt_expect_ssh_echo_ok "$(rt_proxycmd -q -x "http://alice:alice-pw@127.0.0.1:$NEAR_PORT" \
        -x "http://bob:bob-pw@127.0.0.1:$MIDDLE_PORT" \
        -x "http://carol:carol-pw@127.0.0.1:$FAR_PORT" %h %p)"
}

# Each squid saw CONNECTs with its own user's credentials and never another's.
check_own_credentials_only() {
    local bob carol alice
    alice=$(printf 'alice:alice-pw' | base64)
    bob=$(printf 'bob:bob-pw' | base64)
    carol=$(printf 'carol:carol-pw' | base64)
    rt_expect_file_contains "near squid's log" "$NEAR_AUTH_LOG" "CONNECT 127.0.0.1:$MIDDLE_PORT user=alice auth=[Basic $alice]"
    rt_expect_file_contains "far squid's log" "$FAR_AUTH_LOG" "CONNECT 127.0.0.1:$SSHD_PORT user=carol auth=[Digest username=\"carol\""
    local secret
    for secret in "$bob" "$carol" bob-pw carol-pw 'username="carol"'; do
        rt_expect_file_lacks "near squid's log" "$NEAR_AUTH_LOG" "$secret"
    done
    for secret in "$alice" "$bob" alice-pw bob-pw user=alice user=bob; do
        rt_expect_file_lacks "far squid's log" "$FAR_AUTH_LOG" "$secret"
    done
    # The far squid is reached only through the tunnel, so the near one never saw its name
    # in a CONNECT, and saw no CONNECT to sshd either.
    rt_expect_file_lacks "near squid's log" "$NEAR_AUTH_LOG" "CONNECT 127.0.0.1:$SSHD_PORT"
    # -H headers are for the nearest proxy alone.
    rt_expect_file_contains "near squid's log" "$NEAR_AUTH_LOG" "token=[for-the-nearest]"
    rt_expect_file_lacks "far squid's log" "$FAR_AUTH_LOG" "for-the-nearest"
}

check_hop1_unreachable() {
    rt_run_program hop1 -x "http://127.0.0.1:$CLOSED_PORT" -x "$MIDDLE" -x "$FAR" --auth-file "$AUTH" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 3 "hop 1 of 3" "127.0.0.1:$CLOSED_PORT"
}

# The near squid cannot reach the second proxy: it answers 503, naming nothing more.
check_hop2_unreachable() {
    rt_run_program hop2 -x "$NEAR" -x "http://127.0.0.1:$CLOSED_PORT" -x "$FAR" --auth-file "$AUTH" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 4 "hop 1 of 3" "127.0.0.1:$NEAR_PORT" "127.0.0.1:$CLOSED_PORT" 503
}

check_hop2_wrong_password() {
    local wrong=$RT_DIR/wrong.auth
    {
        echo "proxy 127.0.0.1:$NEAR_PORT alice:alice-pw"
        echo "proxy 127.0.0.1:$MIDDLE_PORT bob:not-bobs"
        echo "proxy 127.0.0.1:$FAR_PORT carol:carol-pw"
    } >"$wrong"
    chmod 600 "$wrong"
    rt_run_program hop2auth -x "$NEAR" -x "$MIDDLE" -x "$FAR" --auth-file "$wrong" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 5 "hop 2 of 3" "proxy 127.0.0.1:$MIDDLE_PORT"
}

check_hop3_refuses() {
    rt_run_program hop3 -x "$NEAR" -x "$MIDDLE" -x "$FAR" --auth-file "$AUTH" 127.0.0.1 "$CLOSED_PORT"
    rt_expect_exit 4 "hop 3 of 3" "proxy 127.0.0.1:$FAR_PORT" "127.0.0.1:$CLOSED_PORT" 503
}

check_verbose_names_hops() {
    rt_run_program verbose -v -x "$NEAR" -x "$MIDDLE" -x "$FAR" --auth-file "$AUTH" 127.0.0.1 "$CLOSED_PORT"
    rt_expect_file_contains "stderr" "$RT_ERR" "127.0.0.1:$NEAR_PORT -> 127.0.0.1:$MIDDLE_PORT -> 127.0.0.1:$FAR_PORT"
}

rt_check "ssh through squid -> tinyproxy" check_two_hops
rt_check "ssh through squid -> tinyproxy -> squid (Basic, Basic, Digest)" check_three_hops
rt_check "the same with each proxy's credentials in its URL" check_three_hops_url_credentials
rt_check "each squid received only its own credentials" check_own_credentials_only
rt_make_data 64
rt_check_transfers "$CHAIN3" " through three proxies"
rt_check "hop 1 unreachable: exit 3 naming hop 1" check_hop1_unreachable
rt_check "hop 2 unreachable from hop 1: exit 4, hop 1's 503" check_hop2_unreachable
rt_check "wrong password for hop 2: exit 5 naming hop 2" check_hop2_wrong_password
rt_check "hop 3 refuses the destination: exit 4 naming hop 3" check_hop3_refuses
rt_check "-v shows the route" check_verbose_names_hops
rt_finish
