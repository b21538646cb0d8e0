#!/usr/bin/env bash
# Two walls in one ProxyCommand: squid (Basic auth) on the way out, an sshd
# as the gateway, a second sshd as the inner host.
#   ProxyCommand corkscrew++ -x http://alice:...@squid -J user@gateway:port %h %p
# runs ssh to the gateway with corkscrew++ as its ProxyCommand (so it crosses
# squid) and ssh -W to the inner host. Also two gateways, 16 MiB each way,
# the password kept out of every command line, and ssh's exit status passed
# through.
set -euo pipefail
RT_NAME=jump
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
unset CORKSCREW_AUTH
rt_start_gateway_and_inner
rt_htpasswd "$RT_DIR/squid.htpasswd" alice 'alice-pw'
rt_start_squid --auth "$RT_DIR/squid.htpasswd"
rt_free_port
CLOSED_PORT=$RT_PORT

GATEWAY=$RT_USER@127.0.0.1:$GW_PORT
PROXY=http://alice:alice-pw@127.0.0.1:$SQUID_PORT
# What the ssh to the gateway needs: the gateway's key, no known_hosts, no questions.
GW_SSH_OPTIONS=(--ssh-option BatchMode=yes --ssh-option StrictHostKeyChecking=no
    --ssh-option UserKnownHostsFile=/dev/null --ssh-option LogLevel=ERROR
    --ssh-option IdentitiesOnly=yes --ssh-option IdentityAgent=none
    --ssh-option "IdentityFile=$GW_KEY")

check_one_gateway() {
    local mark line
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    rt_expect_ssh_echo_ok "$(rt_proxycmd -q -x "$PROXY" -J "$GATEWAY" "${GW_SSH_OPTIONS[@]}" %h %p)"
    # squid carried the way to the gateway, for alice, and never saw the inner host.
    line=$(rt_wait_squid_connect "127.0.0.1:$GW_PORT" alice "$mark") || {
        echo "    squid logged no CONNECT to the gateway for alice" >&2
        rt_show_file "squid access.log" "$SQUID_ACCESS_LOG"
        return 1
    }
    rt_say "squid logged: $line"
    rt_expect_file_lacks "squid's log" "$SQUID_ACCESS_LOG" "127.0.0.1:$INNER_PORT"
}

check_two_gateways() {
    rt_expect_ssh_echo_ok "$(rt_proxycmd -q -x "$PROXY" -J "$GATEWAY" -J "$GATEWAY" "${GW_SSH_OPTIONS[@]}" %h %p)"
}

# -v shows the ssh command line; the password is in none of it (it goes by the environment).
check_verbose_command_line() {
    rt_run_program verbose -v -x "$PROXY" -J "$GATEWAY" "${GW_SSH_OPTIONS[@]}" 127.0.0.1 "$INNER_PORT"
    rt_expect_file_contains "stderr" "$RT_ERR" "running ssh -o 'ProxyCommand="
    rt_expect_file_contains "stderr" "$RT_ERR" "-W 127.0.0.1:$INNER_PORT 127.0.0.1"
    rt_expect_file_lacks "stderr" "$RT_ERR" "alice-pw"
}

check_exit_status_passed() {
    rt_run_program closed -q -x "$PROXY" -J "$GATEWAY" "${GW_SSH_OPTIONS[@]}" 127.0.0.1 "$CLOSED_PORT"
    rt_expect_eq "exit status (ssh's)" 255 "$RT_RC"
}

rt_check "ssh through squid, then the gateway, to the inner host" check_one_gateway
rt_check "two gateways in a row" check_two_gateways
rt_check "-v shows the ssh command line, without the password" check_verbose_command_line
rt_check "ssh -W refused by the gateway: ssh's exit status 255" check_exit_status_passed
rt_make_data 16
rt_check_transfers "$(rt_proxycmd -q -x "$PROXY" -J "$GATEWAY" "${GW_SSH_OPTIONS[@]}" %h %p)" " through squid and the gateway"
rt_finish
