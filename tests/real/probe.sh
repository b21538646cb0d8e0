#!/usr/bin/env bash
# --probe against real servers: squid to an sshd (verdict ok, the banner shown),
# squid refusing the port (403 and the port-443 hint), squid wanting Digest
# without credentials (the hint names Digest), a proxy port nothing listens on,
# a destination that accepts and stays silent (the echo server); --json parses
# (jq) and holds the same facts; a password given for Basic is in no report.
set -euo pipefail
RT_NAME=probe
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
rt_require_commands jq base64
unset CORKSCREW_AUTH
[[ -x ${CORKSCREW_ECHO_SERVER:-} ]] || rt_die "CORKSCREW_ECHO_SERVER must name the tests' echo server"
rt_start_sshd
rt_start_echo_server
rt_free_port
DENIED_PORT=$RT_PORT
rt_free_port
CLOSED_PORT=$RT_PORT
rt_htpasswd "$RT_DIR/basic.htpasswd" alice 'alice-pw'
rt_start_squid --auth "$RT_DIR/basic.htpasswd" --deny-port "$DENIED_PORT"
BASIC_PORT=$SQUID_PORT
printf 'bob:bob-pw\n' >"$RT_DIR/digest.users"
rt_start_squid --digest "$RT_DIR/digest.users"
DIGEST_PORT=$SQUID_PORT
BASIC=http://alice:alice-pw@127.0.0.1:$BASIC_PORT

check_ok_with_banner() {
    rt_run_program ok --probe -x "$BASIC" 127.0.0.1 "$SSHD_PORT"
    rt_expect_eq "exit status" 0 "$RT_RC" || { rt_show_file "report" "$RT_OUT"; return 1; }
    rt_expect_file_contains "report" "$RT_OUT" "resolved 127.0.0.1: 127.0.0.1"
    rt_expect_file_contains "report" "$RT_OUT" "connecting to proxy 127.0.0.1:$BASIC_PORT at 127.0.0.1"
    rt_expect_file_contains "report" "$RT_OUT" "connected to proxy 127.0.0.1:$BASIC_PORT at 127.0.0.1"
    rt_expect_file_contains "report" "$RT_OUT" "answering with Basic credentials"
    rt_expect_file_contains "report" "$RT_OUT" "proxy answered: HTTP/1.1 407"
    rt_expect_file_contains "report" "$RT_OUT" "proxy answered: HTTP/1.1 200"
    rt_expect_file_contains "report" "$RT_OUT" 'the destination sent first: "SSH-2.0-OpenSSH'
    rt_expect_file_contains "report" "$RT_OUT" "verdict: ok"
    # The password, and what Basic makes of it, are in no line.
    rt_expect_file_lacks "report" "$RT_OUT" "alice-pw"
    rt_expect_file_lacks "report" "$RT_OUT" "$(printf 'alice:alice-pw' | base64)"
    rt_expect_file_contains "report" "$RT_OUT" "Proxy-Authorization: Basic <redacted>"
}

check_refused_port() {
    rt_run_program refused --probe -x "$BASIC" 127.0.0.1 "$DENIED_PORT"
    rt_expect_eq "exit status" 4 "$RT_RC" || { rt_show_file "report" "$RT_OUT"; return 1; }
    rt_expect_file_contains "report" "$RT_OUT" "verdict: failed (exit 4)"
    rt_expect_file_contains "report" "$RT_OUT" "403 Forbidden"
    rt_expect_file_contains "report" "$RT_OUT" "hint: many proxies allow CONNECT to port 443 only"
}

check_digest_without_credentials() {
    rt_run_program digest --probe -x "http://127.0.0.1:$DIGEST_PORT" 127.0.0.1 "$SSHD_PORT"
    rt_expect_eq "exit status" 5 "$RT_RC" || { rt_show_file "report" "$RT_OUT"; return 1; }
    rt_expect_file_contains "report" "$RT_OUT" "Proxy-Authenticate: Digest"
    rt_expect_file_contains "report" "$RT_OUT" "hint: the proxy wants Digest: give credentials"
}

check_unreachable_proxy() {
    rt_run_program closed --probe -x "http://127.0.0.1:$CLOSED_PORT" 127.0.0.1 "$SSHD_PORT"
    rt_expect_eq "exit status" 3 "$RT_RC" || { rt_show_file "report" "$RT_OUT"; return 1; }
    rt_expect_file_contains "report" "$RT_OUT" "Connection refused"
    rt_expect_file_contains "report" "$RT_OUT" "hint: check the proxy's host and port"
}

check_silent_destination() {
    rt_run_program silent --probe -x "$BASIC" 127.0.0.1 "$ECHO_PORT"
    rt_expect_eq "exit status" 0 "$RT_RC" || { rt_show_file "report" "$RT_OUT"; return 1; }
    rt_expect_file_contains "report" "$RT_OUT" "the destination sent nothing"
    rt_expect_file_contains "report" "$RT_OUT" "normal where the client speaks first"
}

# The JSON report parses, and says what the text report says.
check_json() {
    local json=$RT_DIR/probe.json
    rt_run_program json-ok --probe --json -x "$BASIC" 127.0.0.1 "$SSHD_PORT"
    rt_expect_eq "exit status" 0 "$RT_RC" || return 1
    jq -e . "$RT_OUT" >/dev/null || { rt_show_file "not JSON" "$RT_OUT"; return 1; }
    rt_expect_eq "verdict" ok "$(jq -r .verdict "$RT_OUT")"
    rt_expect_eq "exit_status" 0 "$(jq -r .exit_status "$RT_OUT")"
    rt_expect_eq "tunnel_up" true "$(jq -r .tunnel_up "$RT_OUT")"
    [[ $(jq -r .first_bytes "$RT_OUT") == SSH-2.0-OpenSSH* ]] || { echo "    first_bytes: $(jq -r .first_bytes "$RT_OUT")" >&2; return 1; }
    jq -e '[.steps[].text] | any(startswith("proxy answered: HTTP/1.1 200"))' "$RT_OUT" >/dev/null ||
        { echo "    no step with the 200" >&2; return 1; }
    rt_expect_file_lacks "JSON report" "$RT_OUT" "alice-pw"
    cp "$RT_OUT" "$json"
    rt_run_program json-refused --probe --json -x "$BASIC" 127.0.0.1 "$DENIED_PORT"
    rt_expect_eq "exit status" 4 "$RT_RC"
    rt_expect_eq "verdict" failed "$(jq -r .verdict "$RT_OUT")"
    rt_expect_eq "exit_status" 4 "$(jq -r .exit_status "$RT_OUT")"
    jq -r .error "$RT_OUT" | grep -q "403 Forbidden" || { echo "    error lacks the 403" >&2; return 1; }
    jq -r .hint "$RT_OUT" | grep -q "port 443" || { echo "    hint lacks port 443" >&2; return 1; }
}

rt_check "squid to sshd: verdict ok, the banner, each step, no password" check_ok_with_banner
rt_check "squid refuses the port: exit 4 and the port-443 hint" check_refused_port
rt_check "squid wants Digest and there are no credentials: exit 5, the hint names Digest" check_digest_without_credentials
rt_check "a proxy port nothing listens on: exit 3 and a hint" check_unreachable_proxy
rt_check "a destination that stays silent: ok, and said to be normal for client-first protocols" check_silent_destination
rt_check "--json parses and holds the same facts" check_json
rt_finish
