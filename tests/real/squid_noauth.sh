#!/usr/bin/env bash
# ssh through squid without authentication, corkscrew-compatible form:
#   ProxyCommand=corkscrew++ 127.0.0.1 SQUIDPORT %h %p
set -euo pipefail
RT_NAME=squid_noauth
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
unset CORKSCREW_AUTH
rt_start_sshd
# shellcheck disable=SC2119 # no options: plain squid
rt_start_squid

check_echo_ok() {
    local line
    rt_expect_ssh_echo_ok "$(rt_proxycmd 127.0.0.1 "$SQUID_PORT" %h %p)"
    line=$(rt_wait_squid_connect "127.0.0.1:$SSHD_PORT") || {
        echo "    squid's access.log has no CONNECT to 127.0.0.1:$SSHD_PORT" >&2
        rt_show_file "squid access.log" "$SQUID_ACCESS_LOG"
        return 1
    }
    rt_say "squid logged: $line"
    [[ $line == *TCP_TUNNEL/200* ]] || {
        echo "    expected TCP_TUNNEL/200 in: $line" >&2
        return 1
    }
}

rt_check "ssh echo ok through squid (corkscrew form)" check_echo_ok
rt_finish
