#!/usr/bin/env bash
# corkscrew++ --relay on an SSH gateway, in place of nc: an sshd as the
# gateway, a second sshd as the inner host. ssh to the inner host through
# `ssh gateway corkscrew++ --relay %h %p`, 16 MiB each way; the gateway's relay
# process is gone within a second after the client ssh is killed with SIGKILL
# (no strays; the scripted gateway test holds a destination that never closes,
# so that only the relay's own watch on its parent can end it there); a bad
# destination fails with the usual exit code.
set -euo pipefail
RT_NAME=gateway_relay
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
unset CORKSCREW_AUTH
rt_start_gateway_and_inner
rt_free_port
CLOSED_PORT=$RT_PORT
# Each relay started by this test names this marker, so the process list shows ours only.
MARKER=relay-test-$$-$RANDOM

# The words of an ssh to the gateway (before the remote command).
gateway_ssh() {
    local saved_port=$SSHD_PORT saved_key=$SSH_CLIENT_KEY
    SSHD_PORT=$GW_PORT SSH_CLIENT_KEY=$GW_KEY rt_ssh_options
    SSHD_PORT=$saved_port SSH_CLIENT_KEY=$saved_key
    GATEWAY_SSH=(ssh "${RT_SSH_OPTS[@]}" "$RT_USER@127.0.0.1")
}

# A ProxyCommand for the inner host: ssh to the gateway running the relay there.
relay_proxycmd() {
    local w out=""
    gateway_ssh
    for w in "${GATEWAY_SSH[@]}" "$CORKSCREW_BIN" --relay -A "$MARKER" %h %p; do
        case $w in
            %h | %p) out+=" $w" ;;
            *) out+=" $(rt_proxy_word "$w")" ;;
        esac
    done
    printf '%s\n' "${out# }"
}

# The relays' process ids: the program itself, not the client ssh whose command line names it.
BIN_PATTERN=$(printf '%s' "$CORKSCREW_BIN" | sed 's/[][\.*^$+?(){}|]/\\&/g')
# (The stray check names its own marker: relays of the checks before it may still be exiting,
# slowly under ASan, and must not be taken for its relay.)
STRAY_MARKER=$MARKER-stray
relay_pids() { pgrep -f -- "^$BIN_PATTERN (-v )?--relay -A $STRAY_MARKER " || true; }

check_ssh_through_gateway() {
    rt_expect_ssh_echo_ok "$(relay_proxycmd)"
}

check_no_stray_after_sigkill() {
    local client polls i fifo=$RT_DIR/client-stdin hold
    gateway_ssh
    # The client ssh to the gateway, its stdin a pipe this shell holds open, as ssh holds it.
    mkfifo "$fifo"
    exec {hold}<>"$fifo"
    local err=$RT_DIR/stray-client.stderr seen=""
    "${GATEWAY_SSH[@]}" "$CORKSCREW_BIN" -v --relay -A "$STRAY_MARKER" 127.0.0.1 "$INNER_PORT" <"$fifo" >/dev/null 2>"$err" &
    local ssh_pid=$!
    # The relay starts after ssh's login and the gateway user's shell: a start, bounded as one.
    polls=$(rt_polls "$RT_START_TIMEOUT")
    for ((i = 0; i < polls; i++)); do
        seen=$(relay_pids)
        [[ -n $seen ]] && break
        sleep "$RT_POLL_INTERVAL"
    done
    if [[ -z $(relay_pids) ]]; then
        # Say which: it never came, or it came (pid $seen) and ended while its client still ran.
        echo "    the relay is not running on the gateway (seen: [${seen}]; client ssh $(rt_alive "$ssh_pid" && echo alive || echo gone))" >&2
        rt_show_file "the client ssh's stderr (the relay's -v included)" "$err"
        return 1
    fi
    client=$(pgrep -f -- "^ssh .*-p $GW_PORT .*--relay -A $STRAY_MARKER 127.0.0.1 $INNER_PORT" | head -n 1)
    [[ -n $client ]] || { echo "    no client ssh found" >&2; return 1; }
    kill -KILL "$client"
    # Gone within a second: polled, not slept.
    polls=$(rt_polls 1)
    for ((i = 0; i < polls; i++)); do
        [[ -z $(relay_pids) ]] && return 0
        sleep "$RT_POLL_INTERVAL"
    done
    echo "    relay still running 1 s after the client ssh was killed: $(relay_pids)" >&2
    ps -o pid,ppid,stat,args -p "$(relay_pids | tr '\n' ',' | sed 's/,$//')" >&2 || true
    return 1
}

check_closed_destination() {
    local out err=$RT_DIR/closed.stderr rc=0
    gateway_ssh
    out=$("${GATEWAY_SSH[@]}" "$CORKSCREW_BIN" --relay 127.0.0.1 "$CLOSED_PORT" </dev/null 2>"$err") || rc=$?
    rt_expect_eq "exit status through ssh" 3 "$rc"
    rt_expect_file_contains "stderr" "$err" "127.0.0.1:$CLOSED_PORT"
}

rt_check "ssh to the inner host through ssh gateway corkscrew++ --relay" check_ssh_through_gateway
rt_check "the gateway's relay is gone within 1 s of the client's SIGKILL" check_no_stray_after_sigkill
rt_check "a closed destination: exit 3 through ssh, naming it" check_closed_destination
rt_make_data 16
rt_check_transfers "$(relay_proxycmd)" " through the gateway relay"
rt_finish
