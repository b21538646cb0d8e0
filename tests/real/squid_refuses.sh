#!/usr/bin/env bash
# squid refuses the CONNECT: denied by its configuration (403), and a
# destination nobody listens on (503). Both: exit 4, the message names the
# proxy, the destination and the status code.
set -euo pipefail
RT_NAME=squid_refuses
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
unset CORKSCREW_AUTH
rt_free_port
DENIED_PORT=$RT_PORT
rt_free_port
CLOSED_PORT=$RT_PORT
rt_start_squid --deny-port "$DENIED_PORT"

# The program ran against squid for 127.0.0.1:DESTPORT: exit 4 and STATUS.
expect_refusal() {
    rt_expect_exit 4 "127.0.0.1:$SQUID_PORT" "127.0.0.1:$1" "$2"
}

check_denied_corkscrew_form() {
    rt_run_program denied_corkscrew 127.0.0.1 "$SQUID_PORT" 127.0.0.1 "$DENIED_PORT"
    expect_refusal "$DENIED_PORT" 403
}

check_denied_modern_form() {
    rt_run_program denied_modern -x "http://127.0.0.1:$SQUID_PORT" 127.0.0.1 "$DENIED_PORT"
    expect_refusal "$DENIED_PORT" 403
}

check_nobody_listens() {
    rt_run_program closed 127.0.0.1 "$SQUID_PORT" 127.0.0.1 "$CLOSED_PORT"
    expect_refusal "$CLOSED_PORT" 503
}

rt_check "CONNECT denied by squid (corkscrew form): exit 4, 403" check_denied_corkscrew_form
rt_check "CONNECT denied by squid (-x URL): exit 4, 403" check_denied_modern_form
rt_check "destination nobody listens on: exit 4, 503" check_nobody_listens
rt_finish
