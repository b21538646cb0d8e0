#!/usr/bin/env bash
# ssh through tinyproxy, both command-line forms; then a tinyproxy that allows
# CONNECT to the sshd port only (ConnectPort) must make the program exit 4
# naming the proxy and the 403 for any other port.
set -euo pipefail
RT_NAME=tinyproxy
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
unset CORKSCREW_AUTH
rt_start_sshd
rt_start_tinyproxy
OPEN_PORT=$TINYPROXY_PORT
rt_start_tinyproxy --connect-port "$SSHD_PORT"
RESTRICTED_PORT=$TINYPROXY_PORT
rt_free_port
OTHER_PORT=$RT_PORT

check_corkscrew_form() {
    rt_expect_ssh_echo_ok "$(rt_proxycmd 127.0.0.1 "$OPEN_PORT" %h %p)"
}

check_modern_form() {
    rt_expect_ssh_echo_ok "$(rt_proxycmd -x "http://127.0.0.1:$OPEN_PORT" %h %p)"
}

check_connect_port_allowed() {
    rt_expect_ssh_echo_ok "$(rt_proxycmd 127.0.0.1 "$RESTRICTED_PORT" %h %p)"
}

check_connect_port_refused() {
    rt_run_program refused 127.0.0.1 "$RESTRICTED_PORT" 127.0.0.1 "$OTHER_PORT"
    rt_expect_exit 4 "127.0.0.1:$RESTRICTED_PORT" "127.0.0.1:$OTHER_PORT" 403
}

rt_check "ssh echo ok through tinyproxy (corkscrew form)" check_corkscrew_form
rt_check "ssh echo ok through tinyproxy (-x URL)" check_modern_form
rt_check "ConnectPort allows the sshd port" check_connect_port_allowed
rt_check "ConnectPort refuses another port: exit 4, 403" check_connect_port_refused
rt_finish
