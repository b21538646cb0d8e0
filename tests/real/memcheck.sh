#!/usr/bin/env bash
# The program under valgrind's memcheck through squid: ssh through a Digest tunnel and a Basic one
# at -vvv, each carrying 4 MiB up and 4 MiB down (the relay the program picks), then listen mode
# with 20 tunnels at once and 50 in a row to the echo server, stopped by SIGTERM. Each run must
# end as it would without valgrind, every byte intact, with no invalid read or write, no use of
# uninitialised memory, no bad free and no memory definitely or indirectly lost at exit.
# (Memory still reachable at exit, such as the Kerberos and OpenSSL libraries' own tables, is
# not a leak.) Not run in a build with the sanitizers, which valgrind cannot run beside.
set -euo pipefail
RT_NAME=memcheck
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
rt_require_commands valgrind sha256sum
[[ -x ${CORKSCREW_ECHO_SERVER:-} ]] || rt_die "CORKSCREW_ECHO_SERVER does not name the echo server built from tests/support/echo_server.cpp"
[[ -x ${CORKSCREW_ECHO_CLIENT:-} ]] || rt_die "CORKSCREW_ECHO_CLIENT does not name the echo client built from tests/support/echo_client.cpp"
unset CORKSCREW_AUTH
export HOME=$RT_DIR/home
mkdir -p "$HOME"

DIGEST_PASS='di gest pass'
BASIC_PASS='ba sic pass'
rt_digest_file "$RT_DIR/digest-passwords" dora "$DIGEST_PASS"
rt_start_squid --digest "$RT_DIR/digest-passwords"
DIGEST_PORT=$SQUID_PORT
rt_htpasswd "$RT_DIR/squid.htpasswd" bert "$BASIC_PASS"
rt_start_squid --auth "$RT_DIR/squid.htpasswd"
BASIC_PORT=$SQUID_PORT
rt_start_echo_server
rt_start_sshd
ECHO_DEST=127.0.0.1:$ECHO_PORT
rt_make_data 4

# Under memcheck the program runs some 20 to 50 times slower: bounds for one run.
VG_TIMEOUT=120
# The exit status valgrind gives a run in which it found an error (the program's own are 0-9 and
# 128+N).
VG_ERROR_RC=99
# shellcheck disable=SC2054 # the commas are valgrind's
VALGRIND=(valgrind --tool=memcheck --error-exitcode="$VG_ERROR_RC" --leak-check=full
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
    --track-origins=yes --num-callers=30)

# clean_log NAME LOG: valgrind's log LOG of the run NAME counts no errors; else shown.
clean_log() {
    grep -q 'ERROR SUMMARY: 0 errors' "$2" && return 0
    echo "    memcheck found errors in the run '$1':" >&2
    rt_show_file "valgrind log" "$2" 80
    return 1
}

# tunnel NAME ARGS...: ssh through the program (ARGS, then %h %p) under memcheck, RT_DATA up to
# the remote sha256sum and down from a remote cat, the same bytes both ways; each run's log (one a
# process, $RT_DIR/NAME.PID.vg) clean. (ssh, not a pipe of bytes to the echo server: squid ends
# the whole tunnel when the client ends its sending half, and what was still to be echoed with
# it.)
tunnel() {
    local name=$1 w proxycmd="" logs log
    shift
    for w in "${VALGRIND[@]}" "--log-file=$RT_DIR/$name.%p.vg"; do
        proxycmd+="$(rt_proxy_word "$w") "
    done
    proxycmd+=$(rt_proxycmd "$@" %h %p)
    rt_transfer_upload "$proxycmd" || return 1
    rt_transfer_download "$proxycmd" || return 1
    logs=("$RT_DIR/$name".*.vg)
    rt_expect_eq "valgrind logs (one a run)" 2 "${#logs[@]}" || return 1
    for log in "${logs[@]}"; do
        # ssh is done when the program has still its exit, and valgrind its leak search, to go.
        rt_wait_for_text "$log" "ERROR SUMMARY:" "$VG_TIMEOUT" || true
        clean_log "$name" "$log" || return 1
    done
}

check_digest() {
    local file
    file=$(rt_write_auth_file dora dora "$DIGEST_PASS")
    tunnel digest -x "http://127.0.0.1:$DIGEST_PORT" --auth-file "$file"
}

check_basic_verbose() {
    CORKSCREW_AUTH="bert:$BASIC_PASS" tunnel basic -vvv -x "http://127.0.0.1:$BASIC_PORT"
}

check_listen() {
    local out=$RT_DIR/listen.stdout err=$RT_DIR/listen.stderr pid rc=0
    : >"$out"
    rt_say "running under memcheck: corkscrew++ -x ... -L 0:$ECHO_DEST"
    CORKSCREW_AUTH="bert:$BASIC_PASS" "${VALGRIND[@]}" --log-file="$RT_DIR/listen.vg" \
        "$CORKSCREW_BIN" -v -x "http://127.0.0.1:$BASIC_PORT" -L "0:$ECHO_DEST" \
        </dev/null >"$out" 2>"$err" &
    pid=$!
    rt_wait_listening "$out" "$pid" "$ECHO_DEST" "$err"
    "$CORKSCREW_ECHO_CLIENT" --timeout "$VG_TIMEOUT" --port "$RT_LISTEN_PORT" --connections 20 \
        --bytes 262144 >"$RT_DIR/concurrent.client" 2>&1 || {
        rt_show_file "echo client" "$RT_DIR/concurrent.client" 20
        rt_show_file "program stderr" "$err" 20
        kill -KILL "$pid"
        return 1
    }
    "$CORKSCREW_ECHO_CLIENT" --timeout "$VG_TIMEOUT" --port "$RT_LISTEN_PORT" --sequential \
        --connections 50 --bytes 4096 >"$RT_DIR/sequential.client" 2>&1 || {
        rt_show_file "echo client" "$RT_DIR/sequential.client" 20
        kill -KILL "$pid"
        return 1
    }
    kill -TERM "$pid"
    rt_poll "$VG_TIMEOUT" "" rt_none_alive "$pid" || {
        echo "    still running ${VG_TIMEOUT}s after SIGTERM" >&2
        kill -KILL "$pid"
        return 1
    }
    wait "$pid" || rc=$?
    clean_log listen "$RT_DIR/listen.vg" || return 1
    ((rc != VG_ERROR_RC)) || { echo "    valgrind's exit status: it found an error" >&2; return 1; }
    rt_expect_eq "exit status after SIGTERM" 0 "$rc" || { rt_show_file "program stderr" "$err" 20; return 1; }
    rt_expect_eq "tunnels that ended well (-v lines)" 70 "$(grep -c ', ok$' "$err" || true)"
}

rt_check "ssh through Digest, 4 MiB each way, under memcheck" check_digest
rt_check "ssh through Basic at -vvv, 4 MiB each way, under memcheck" check_basic_verbose
rt_check "-L: 20 tunnels at once, 50 in a row, SIGTERM, under memcheck" check_listen
rt_finish
