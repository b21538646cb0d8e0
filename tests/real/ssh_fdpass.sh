#!/usr/bin/env bash
# ssh -o ProxyUseFdpass=yes through squid: corkscrew++ --fdpass hands the tunnel's socket to ssh
# and exits, and ssh talks to squid's socket itself. 16 MiB up and down with SHA-256 compared; no
# corkscrew++ left while the session runs; --fdpass without ProxyUseFdpass refused.
set -euo pipefail
RT_NAME=ssh_fdpass
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
rt_require_commands pgrep
unset CORKSCREW_AUTH
rt_start_sshd
# shellcheck disable=SC2119 # no options: plain squid
rt_start_squid

FDPASS_CMD=$(rt_proxycmd --fdpass 127.0.0.1 "$SQUID_PORT" %h %p)
RELAY_CMD=$(rt_proxycmd 127.0.0.1 "$SQUID_PORT" %h %p)
RT_SSH_EXTRA_OPTS=(-o ProxyUseFdpass=yes)

# Run on the far side (this machine): says whether a corkscrew++ for this squid and this sshd
# runs. The brackets keep the pattern from matching the shell that runs it, and ssh's own command
# line holds %h %p, not the destination they expand to.
STILL_RUNNING='if pgrep -f "corkscrew[+][+] .*127\.0\.0\.1 '$SQUID_PORT' 127\.0\.0\.1 '$SSHD_PORT'\$" >/dev/null; then echo running; else echo gone; fi'

check_echo_ok() {
    local err=$RT_DIR/fdpass-v.stderr out line
    out=$(ssh_via "$(rt_proxycmd --fdpass -v 127.0.0.1 "$SQUID_PORT" %h %p)" echo ok 2>"$err") || {
        rt_show_file "ssh stderr (the program's stderr included)" "$err"
        return 1
    }
    rt_expect_eq "remote 'echo ok' output" ok "$out"
    rt_expect_file_contains "the program's -v output" "$err" \
        "passed the tunnel's socket to ssh (ProxyUseFdpass)"
    line=$(rt_wait_squid_connect "127.0.0.1:$SSHD_PORT") || {
        rt_show_file "squid access.log" "$SQUID_ACCESS_LOG"
        return 1
    }
    [[ $line == *TCP_TUNNEL/200* ]] || {
        echo "    expected TCP_TUNNEL/200 in: $line" >&2
        return 1
    }
}

# The pattern finds the program while it relays, so that "gone" below means something.
check_found_while_relaying() {
    RT_SSH_EXTRA_OPTS=()
    rt_expect_eq "corkscrew++ during a relayed session" running \
        "$(ssh_via "$RELAY_CMD" "$STILL_RUNNING")"
}

check_gone_with_fdpass() {
    rt_expect_eq "corkscrew++ during a ProxyUseFdpass session" gone \
        "$(ssh_via "$FDPASS_CMD" "$STILL_RUNNING")"
}

# ssh without ProxyUseFdpass gives pipes: the program must say so before asking the proxy.
check_refused_without_fdpass_ssh() {
    local err=$RT_DIR/no-fdpass.stderr mark rc=0
    RT_SSH_EXTRA_OPTS=()
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    ssh_via "$FDPASS_CMD" echo ok >/dev/null 2>"$err" || rc=$?
    if ((rc == 0)); then
        echo "    ssh succeeded, although the program got no socket to pass the tunnel over" >&2
        return 1
    fi
    rt_expect_file_contains "ssh stderr" "$err" "ProxyUseFdpass"
    rt_expect_file_contains "ssh stderr" "$err" "stdout is a pipe"
    rt_expect_eq "new lines in squid's access.log" "$mark" "$(rt_log_lines "$SQUID_ACCESS_LOG")"
}

rt_check "ssh echo ok with ProxyUseFdpass through squid" check_echo_ok
rt_check "a relaying corkscrew++ is seen during its session" check_found_while_relaying
rt_check "no corkscrew++ left during a ProxyUseFdpass session" check_gone_with_fdpass
rt_check "--fdpass refused when ssh gives pipes" check_refused_without_fdpass_ssh

# Large enough to cross many socket buffers and ssh windows.
rt_make_data 16
rt_check_transfers "$FDPASS_CMD" " with ProxyUseFdpass"
rt_finish
