#!/usr/bin/env bash
# An https:// proxy: stunnel (TLS, with a certificate from a CA made here)
# in front of squid. ssh and 64 MiB each way through it with --proxy-cacert;
# a wrong CA and a wrong name fail cleanly (exit 3, one line, a hint);
# --proxy-insecure works and warns; a client certificate where the proxy
# requires one; TLS as the second hop of a chain, behind a plain squid; from
# the environment alone (https_proxy, and SSL_CERT_FILE for the CA).
set -euo pipefail
RT_NAME=https_proxy
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
unset CORKSCREW_AUTH
rt_start_sshd
rt_start_squid
BACKEND_PORT=$SQUID_PORT
BACKEND_LOG=$SQUID_ACCESS_LOG
rt_make_certs
rt_start_stunnel "$BACKEND_PORT"
TLS_PORT=$STUNNEL_PORT
rt_start_stunnel "$BACKEND_PORT" --require-client-cert
MUTUAL_PORT=$STUNNEL_PORT
rt_start_squid
NEAR_PORT=$SQUID_PORT

HTTPS=https://localhost:$TLS_PORT
VERIFIED=$(rt_proxycmd -x "$HTTPS" --proxy-cacert "$TLS_CA" %h %p)
PLAIN=$(rt_proxycmd %h %p)

check_verified() {
    rt_expect_ssh_via_squid "$BACKEND_LOG" "$VERIFIED"
}

check_wrong_ca() {
    rt_run_program wrong-ca -x "$HTTPS" --proxy-cacert "$TLS_WRONG_CA" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 3 "localhost:$TLS_PORT" "certificate verify failed" "--proxy-cacert"
    [[ $(wc -l <"$RT_ERR") == 1 ]] || { echo "    more than one line on stderr" >&2; return 1; }
}

check_system_store_refuses() {
    rt_run_program system-store -x "$HTTPS" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 3 "localhost:$TLS_PORT" "certificate verify failed"
}

check_wrong_name() {
    # The certificate names localhost, not 127.0.0.1.
    rt_run_program wrong-name -x "https://127.0.0.1:$TLS_PORT" --proxy-cacert "$TLS_CA" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 3 "127.0.0.1:$TLS_PORT"
    rt_expect_file_contains "stderr" "$RT_ERR" "mismatch"
}

# The name does not match and the CA is unknown: only --proxy-insecure lets it through, and ssh's
# stderr (which is the program's) shows the warning.
check_insecure_warns() {
    local out err=$RT_DIR/insecure.stderr
    out=$(ssh_via "$(rt_proxycmd -x "https://127.0.0.1:$TLS_PORT" --proxy-insecure %h %p)" echo ok 2>"$err")
    rt_expect_eq "remote 'echo ok' output" ok "$out"
    rt_expect_file_contains "ssh's stderr" "$err" "warning: --proxy-insecure"
}

check_client_cert() {
    rt_expect_ssh_echo_ok "$(rt_proxycmd -x "https://localhost:$MUTUAL_PORT" --proxy-cacert "$TLS_CA" \
        --proxy-cert "$TLS_CLIENT_CERT" --proxy-key "$TLS_CLIENT_KEY" %h %p)"
}

check_client_cert_missing() {
    rt_run_program no-client-cert -x "https://localhost:$MUTUAL_PORT" --proxy-cacert "$TLS_CA" 127.0.0.1 "$SSHD_PORT"
    if ((RT_RC == 0)); then
        echo "    exit 0 without the client certificate the proxy requires" >&2
        rt_show_file "program stderr" "$RT_ERR"
        return 1
    fi
    rt_expect_file_contains "stderr" "$RT_ERR" "localhost:$MUTUAL_PORT"
}

check_second_hop() {
    rt_expect_ssh_echo_ok "$(rt_proxycmd -x "http://127.0.0.1:$NEAR_PORT" -x "$HTTPS" --proxy-cacert "$TLS_CA" %h %p)"
}

# Nothing on the command line: the proxy from https_proxy, its CA from OpenSSL's SSL_CERT_FILE.
check_from_environment() {
    https_proxy=$HTTPS SSL_CERT_FILE=$TLS_CA rt_expect_ssh_echo_ok "$PLAIN"
}

check_fdpass_refused() {
    rt_run_program fdpass --fdpass -x "$HTTPS" --proxy-cacert "$TLS_CA" 127.0.0.1 "$SSHD_PORT"
    rt_expect_exit 2 "--fdpass" "TLS"
}

rt_check "ssh through an https:// proxy, verified with --proxy-cacert" check_verified
rt_check "a CA that did not sign the proxy's certificate: exit 3, one line" check_wrong_ca
rt_check "the system's CAs do not know the test CA: exit 3" check_system_store_refuses
rt_check "a name the certificate does not hold: exit 3" check_wrong_name
rt_check "ssh with --proxy-insecure, which warns" check_insecure_warns
rt_check "a client certificate where the proxy requires one" check_client_cert
rt_check "no client certificate where the proxy requires one: fails" check_client_cert_missing
rt_check "TLS as the second hop, behind a plain squid" check_second_hop
rt_check "https_proxy and SSL_CERT_FILE alone: ssh through the https:// proxy" check_from_environment
rt_check "--fdpass with an https:// proxy: exit 2" check_fdpass_refused
rt_make_data 64
rt_check_transfers "$VERIFIED" " over TLS to the proxy"
rt_finish
