#!/usr/bin/env bash
# -z/--compress with -J: squid (Basic auth) on the way out, an sshd as the
# gateway, and behind it an inner sshd or a plaintext echo server of the
# tests' own (CORKSCREW_ECHO_SERVER).
#   corkscrew++ -x http://alice:...@squid -J user@gateway:port --compress
#               --gateway-program PROGRAM DESTHOST DESTPORT
# runs ssh to the gateway (crossing squid) with `PROGRAM --relay --compress
# DESTHOST DESTPORT` as its remote command, and relays through zstd frames to
# it. Checked: ssh through it; 64 MiB round trips to the echo server intact,
# with squid carrying far fewer bytes than without --compress for
# compressible data and no more for random data; the clear error (exit 9)
# when only one end compresses; single bytes echoed one at a time, none held
# back; no process left on the gateway or here after a SIGKILL; -v.
set -euo pipefail
RT_NAME="compress"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
rt_require_commands sha256sum pgrep mkfifo seq truncate
[[ -n ${CORKSCREW_ECHO_SERVER:-} ]] || rt_die "CORKSCREW_ECHO_SERVER is not set (it names the echo server built from tests/support/echo_server.cpp)"
[[ -x $CORKSCREW_ECHO_SERVER ]] || rt_die "CORKSCREW_ECHO_SERVER=$CORKSCREW_ECHO_SERVER is not an executable file"
unset CORKSCREW_AUTH
rt_start_gateway_and_inner
rt_htpasswd "$RT_DIR/squid.htpasswd" alice 'alice-pw'
rt_start_squid --auth "$RT_DIR/squid.htpasswd" --log-bytes

# Size of each bulk round trip: large enough that ssh's handshake and the
# framing are lost in it.
BULK_MIB=64
# The bytes typed in the interactive exchange, one at a time.
KEYSTROKES=abcdefghijklmnopqrst
# How long one keystroke's echo may take once the tunnel is up: a byte the
# layer held back waiting for more would never come.
KEYSTROKE_TIMEOUT=5

rt_start_echo_server

# The gateway runs the program under a name of its own (a link in the temp
# folder), so that the process list shows this test's relays only.
mkdir "$RT_DIR/gateway-bin"
GW_PROGRAM=$RT_DIR/gateway-bin/corkscrew++
ln -s "$(readlink -f "$CORKSCREW_BIN")" "$GW_PROGRAM"
GW_PATTERN=$(printf '%s' "$GW_PROGRAM" | sed 's/[][\.*^$+?(){}|]/\\&/g')

GATEWAY=$RT_USER@127.0.0.1:$GW_PORT
PROXY=http://alice:alice-pw@127.0.0.1:$SQUID_PORT
# What the ssh to the gateway needs: the gateway's key, no known_hosts, no
# questions; and no compression of ssh's own, which would blur the comparison.
GW_SSH_OPTIONS=(--ssh-option BatchMode=yes --ssh-option StrictHostKeyChecking=no
    --ssh-option UserKnownHostsFile=/dev/null --ssh-option LogLevel=ERROR
    --ssh-option IdentitiesOnly=yes --ssh-option IdentityAgent=none
    --ssh-option "IdentityFile=$GW_KEY" --ssh-option Compression=no)
JUMP=(-x "$PROXY" -J "$GATEWAY" "${GW_SSH_OPTIONS[@]}")
rt_free_port
CLOSED_PORT=$RT_PORT
COMPRESS=(--compress --gateway-program "$GW_PROGRAM")

# The words of an ssh to the gateway (before the remote command).
gateway_ssh() {
    local saved_port=$SSHD_PORT saved_key=$SSH_CLIENT_KEY
    SSHD_PORT=$GW_PORT SSH_CLIENT_KEY=$GW_KEY rt_ssh_options
    SSHD_PORT=$saved_port SSH_CLIENT_KEY=$saved_key
    GATEWAY_SSH=(ssh "${RT_SSH_OPTS[@]}" "$RT_USER@127.0.0.1")
}

# The gateway's relays to DESTPORT: the program itself, not the client ssh
# whose command line names it.
relay_pids() { pgrep -f -- "^$GW_PATTERN --relay --compress 127\\.0\\.0\\.1 $1\$" || true; }
relay_runs() { [[ -n $(relay_pids "$1") ]]; }




# Show the processes among PIDS that still run.
show_survivors() {
    local pid
    for pid in "$@"; do
        if rt_alive "$pid"; then ps -o pid,ppid,stat,args -p "$pid" | tail -n +2 | sed 's/^/    still running: /' >&2; fi
    done
}

check_ssh_through_compression() {
    local mark line
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    rt_expect_ssh_echo_ok "$(rt_proxycmd -q "${JUMP[@]}" "${COMPRESS[@]}" %h %p)"
    # squid carried the way to the gateway, for alice, and never saw the inner host.
    line=$(rt_wait_squid_connect "127.0.0.1:$GW_PORT" alice "$mark") || {
        echo "    squid logged no CONNECT to the gateway for alice" >&2
        rt_show_file "squid access.log" "$SQUID_ACCESS_LOG"
        return 1
    }
    rt_say "squid logged: $line"
    if tail -n "+$((mark + 1))" "$SQUID_ACCESS_LOG" | grep -qF -- "127.0.0.1:$INNER_PORT"; then
        echo "    squid saw the inner host 127.0.0.1:$INNER_PORT" >&2
        return 1
    fi
    # ssh ended its ProxyCommand (SIGHUP); the gateway's relay went with it.
    local relays
    mapfile -t relays < <(relay_pids "$INNER_PORT")
    if ! rt_poll 1 "" rt_none_alive "${relays[@]}"; then
        echo "    the gateway's relay still runs 1 s after the session ended:" >&2
        show_survivors "${relays[@]}"
        return 1
    fi
}

# -v shows the ssh command line with the gateway's relay, not the password,
# and what the compression did.
check_verbose() {
    local input=$RT_DIR/verbose.in
    seq 1 100000 >"$input"
    RT_STDIN=$input rt_run_program verbose -v "${JUMP[@]}" "${COMPRESS[@]}" 127.0.0.1 "$ECHO_PORT"
    rt_expect_eq "exit code" 0 "$RT_RC" || { rt_show_file "program stderr" "$RT_ERR"; return 1; }
    cmp -s "$input" "$RT_OUT" || { echo "    the echo differs from what was sent" >&2; return 1; }
    rt_expect_file_contains "stderr" "$RT_ERR" "running ssh -o 'ProxyCommand="
    rt_expect_file_contains "stderr" "$RT_ERR" " -T -e none 127.0.0.1 '$GW_PROGRAM --relay --compress 127.0.0.1 $ECHO_PORT'"
    rt_expect_file_contains "stderr" "$RT_ERR" "compression: sent $(stat -c %s "$input") bytes as "
    rt_expect_file_lacks "stderr" "$RT_ERR" "alice-pw"
    rt_say "$(grep -F 'compression: sent' "$RT_ERR")"
}

# Only this end compresses: the far end (an sshd) answers with its banner.
check_far_end_plain() {
    rt_run_program far-plain -q -x "$PROXY" --compress 127.0.0.1 "$INNER_PORT"
    rt_expect_exit 9 "does not speak corkscrew++'s compression" "SSH-2.0-"
    rt_expect_eq "lines on stderr" 1 "$(wc -l <"$RT_ERR")"
}

# Only the far end compresses: the gateway's relay gets plain bytes on stdin.
check_near_end_plain() {
    local out=$RT_DIR/near-plain.stdout err=$RT_DIR/near-plain.stderr rc=0
    gateway_ssh
    printf 'plain bytes, no hello\n' | timeout "$RT_CMD_TIMEOUT" \
        "${GATEWAY_SSH[@]}" "$GW_PROGRAM" --relay --compress 127.0.0.1 "$ECHO_PORT" >"$out" 2>"$err" || rc=$?
    rt_expect_eq "exit status through ssh" 9 "$rc" || { rt_show_file "stderr" "$err"; return 1; }
    rt_expect_file_contains "stderr" "$err" "does not speak corkscrew++'s compression"
    rt_expect_file_contains "stderr" "$err" "plain bytes, no hello"
    rt_expect_eq "lines on stderr" 1 "$(wc -l <"$err")"
    # The relay spoke first all the same: its hello is what a compressing end reads.
    rt_expect_eq "the relay's first line" "corkscrew++ compress/1 zstd" "$(head -n 1 "$out")"
    rt_say "stderr: $(cat "$err")"
}

# The gateway's relay cannot reach the destination: its exit status (3) and its
# message come back through ssh, not the near end's view of a stream cut short.
check_far_end_fails() {
    rt_run_program far-fails -q "${JUMP[@]}" "${COMPRESS[@]}" 127.0.0.1 "$CLOSED_PORT"
    rt_expect_exit 3 "127.0.0.1:$CLOSED_PORT"
}

# One byte, its echo, the next: each flushed through both ends at once.
check_keystrokes() {
    local i sent got wait rc start elapsed slowest=0 in out client err=$RT_DIR/keystrokes.stderr
    coproc KEYS { exec "$CORKSCREW_BIN" -q "${JUMP[@]}" "${COMPRESS[@]}" 127.0.0.1 "$ECHO_PORT" 2>"$err"; }
    client=$KEYS_PID
    # bash forgets KEYS once the program has ended: keep its descriptors.
    in=${KEYS[1]}
    out=${KEYS[0]}
    # shellcheck disable=SC2064 # the pid is fixed now
    trap "kill -KILL $client 2>/dev/null || true" EXIT
    for ((i = 0; i < ${#KEYSTROKES}; i++)); do
        sent=${KEYSTROKES:i:1}
        # The first echo also waits for the tunnel, the ssh session and the hellos.
        wait=$KEYSTROKE_TIMEOUT
        ((i > 0)) || wait=$RT_START_TIMEOUT
        rt_now_us
        start=$NOW_US
        printf '%s' "$sent" >&"$in"
        got=""
        rc=0
        IFS= read -r -N 1 -t "$wait" got <&"$out" || rc=$?
        if ((rc > 128)); then
            echo "    no echo of byte $((i + 1)) ('$sent') within ${wait}s" >&2
        elif ((rc != 0)); then
            echo "    the program's stdout ended before the echo of byte $((i + 1)) ('$sent')" >&2
        fi
        ((rc == 0)) || { rt_show_file "program stderr" "$err"; return 1; }
        rt_expect_eq "echo of byte $((i + 1))" "$sent" "$got"
        rt_now_us
        elapsed=$(((NOW_US - start) / 1000))
        if ((i > 0 && elapsed > slowest)); then slowest=$elapsed; fi
    done
    rt_say "${#KEYSTROKES} bytes echoed one at a time; the slowest after the first took ${slowest} ms"
    # stdin's end finishes the run: the echo server closes, and so does everything between.
    exec {in}>&-
    if ! rt_poll "$RT_LOG_TIMEOUT" "" rt_none_alive "$client"; then
        echo "    the program still runs ${RT_LOG_TIMEOUT}s after its stdin ended" >&2
        return 1
    fi
    rc=0
    wait "$client" || rc=$?
    trap - EXIT
    rt_expect_eq "exit code" 0 "$rc" || { rt_show_file "program stderr" "$err"; return 1; }
}

# SIGKILL to the program: its ssh, that ssh's ProxyCommand and the gateway's
# relay are gone within a second.
check_no_stray_after_program_sigkill() {
    local client ssh_pid proxy_pid relays fifo=$RT_DIR/stray-stdin hold
    # stdin a pipe this shell holds open, so the run only ends by the signal.
    mkfifo "$fifo"
    # shellcheck disable=SC2034 # only held open, until this check's subshell ends
    exec {hold}<>"$fifo"
    "$CORKSCREW_BIN" -q "${JUMP[@]}" "${COMPRESS[@]}" 127.0.0.1 "$ECHO_PORT" <"$fifo" >/dev/null 2>"$RT_DIR/stray.stderr" &
    client=$!
    # Its SIGKILL is the plan: not a job whose death bash reports.
    disown "$client"
    # shellcheck disable=SC2064 # the pid is fixed now
    trap "kill -KILL $client 2>/dev/null || true" EXIT
    rt_poll "$RT_START_TIMEOUT" "$client" relay_runs "$ECHO_PORT" || {
        echo "    no relay to 127.0.0.1:$ECHO_PORT ran on the gateway" >&2
        rt_show_file "program stderr" "$RT_DIR/stray.stderr"
        return 1
    }
    mapfile -t relays < <(relay_pids "$ECHO_PORT")
    ssh_pid=$(pgrep -P "$client" -x ssh) || { echo "    the program has no ssh child" >&2; return 1; }
    proxy_pid=$(pgrep -P "$ssh_pid") || { echo "    the ssh has no ProxyCommand child" >&2; return 1; }
    kill -KILL "$client"
    # Gone within a second: polled, not slept.
    if ! rt_poll 1 "" rt_none_alive "$client" "$ssh_pid" "$proxy_pid" "${relays[@]}"; then
        echo "    still running 1 s after the program's SIGKILL:" >&2
        show_survivors "$client" "$ssh_pid" "$proxy_pid" "${relays[@]}"
        return 1
    fi
    trap - EXIT
}

# SIGKILL to a client ssh whose ProxyCommand is the program with -J
# --compress: the program, its ssh, and the gateway's relay are gone within a
# second.
check_no_stray_after_ssh_sigkill() {
    local client program ssh_pid relays fifo=$RT_DIR/outer-stdin hold out=$RT_DIR/outer.stdout
    # The remote cat's input: a pipe this shell holds open, as a terminal would be.
    mkfifo "$fifo"
    # shellcheck disable=SC2034 # only held open, until this check's subshell ends
    exec {hold}<>"$fifo"
    rt_ssh_options
    ssh "${RT_SSH_OPTS[@]}" -o "ProxyCommand=$(rt_proxycmd -q "${JUMP[@]}" "${COMPRESS[@]}" %h %p)" \
        "$RT_USER@127.0.0.1" 'echo up; exec cat' <"$fifo" >"$out" 2>"$RT_DIR/outer.stderr" &
    client=$!
    # Its SIGKILL is the plan: not a job whose death bash reports.
    disown "$client"
    # shellcheck disable=SC2064 # the pid is fixed now
    trap "kill -KILL $client 2>/dev/null || true" EXIT
    # The session is up on the inner host: every link of the chain stands.
    rt_poll "$RT_START_TIMEOUT" "$client" grep -qsx up "$out" || {
        echo "    the session on the inner host did not start" >&2
        rt_show_file "ssh stderr" "$RT_DIR/outer.stderr"
        return 1
    }
    mapfile -t relays < <(relay_pids "$INNER_PORT")
    ((${#relays[@]})) || { echo "    no relay runs on the gateway" >&2; return 1; }
    program=$(pgrep -P "$client") || { echo "    the client ssh has no ProxyCommand child" >&2; return 1; }
    ssh_pid=$(pgrep -P "$program" -x ssh) || { echo "    the program has no ssh child" >&2; return 1; }
    kill -KILL "$client"
    if ! rt_poll 1 "" rt_none_alive "$client" "$program" "$ssh_pid" "${relays[@]}"; then
        echo "    still running 1 s after the client ssh's SIGKILL:" >&2
        show_survivors "$client" "$program" "$ssh_pid" "${relays[@]}"
        return 1
    fi
    trap - EXIT
}

# Run the program with stdin FILE to the echo server through squid and the
# gateway, with the extra ARGS (--compress or none); the echo must be FILE's
# bytes. Sets BYTES_UP and BYTES_DOWN: the bytes squid received from the
# program's side and sent to it, from its log line for this tunnel.
round_trip() {
    local name=$1 file=$2 mark line sum got
    shift 2
    mark=$(rt_log_lines "$SQUID_BYTES_LOG")
    RT_STDIN=$file rt_run_program "$name" -q "${JUMP[@]}" "$@" 127.0.0.1 "$ECHO_PORT"
    rt_expect_eq "exit code" 0 "$RT_RC" || { rt_show_file "program stderr" "$RT_ERR"; return 1; }
    sum=$(sha256sum <"$file" | cut -d' ' -f1)
    got=$(sha256sum <"$RT_OUT" | cut -d' ' -f1)
    rm -f -- "$RT_OUT"
    rt_expect_eq "SHA-256 of the echoed bytes" "$sum" "$got"
    # squid logs a tunnel once it has closed.
    line=$(SQUID_ACCESS_LOG=$SQUID_BYTES_LOG rt_wait_squid_connect "127.0.0.1:$GW_PORT" "user=alice" "$mark") || {
        echo "    squid logged no tunnel to the gateway for alice" >&2
        rt_show_file "squid bytes log" "$SQUID_BYTES_LOG"
        return 1
    }
    BYTES_UP=$(sed -n 's/.* from_client=\([0-9]*\).*/\1/p' <<<"$line")
    BYTES_DOWN=$(sed -n 's/.* to_client=\([0-9]*\).*/\1/p' <<<"$line")
    [[ -n $BYTES_UP && -n $BYTES_DOWN ]] || { echo "    no byte counts in squid's line: $line" >&2; return 1; }
}

# KIND is compressible or random, FILE its data: a round trip with --compress
# and one without; squid's totals must satisfy the comparison of KIND.
check_bulk() {
    local kind=$1 file=$2 plain packed
    round_trip "$kind-plain" "$file"
    plain=$((BYTES_UP + BYTES_DOWN))
    rt_say "$kind, ssh -W: squid carried $BYTES_UP bytes up, $BYTES_DOWN down ($plain)"
    round_trip "$kind-compressed" "$file" "${COMPRESS[@]}"
    packed=$((BYTES_UP + BYTES_DOWN))
    rt_say "$kind, --compress: squid carried $BYTES_UP bytes up, $BYTES_DOWN down ($packed," \
        "$(awk -v a="$packed" -v b="$plain" 'BEGIN { printf "%.2f", a * 100 / b }') % of ssh -W)"
    case $kind in
        compressible)
            ((packed * 2 < plain)) || {
                echo "    --compress moved $packed bytes, not under half of $plain" >&2
                return 1
            }
            ;;
        random)
            ((packed * 100 <= plain * 101)) || {
                echo "    --compress moved $packed bytes, over 1 % more than $plain" >&2
                return 1
            }
            ;;
    esac
}

rt_check "ssh through squid, then -J --compress, to the inner host" check_ssh_through_compression
rt_check "-v shows the ssh command line with the gateway's relay, without the password" check_verbose
rt_check "--compress to a plain far end (an sshd): exit 9, one line naming its first bytes" check_far_end_plain
rt_check "--relay --compress fed plain bytes: exit 9 through ssh, one line" check_near_end_plain
rt_check "the gateway's relay cannot connect: its exit status 3 comes through" check_far_end_fails
rt_check "single bytes echoed one at a time, none held back" check_keystrokes
rt_check "the program's SIGKILL leaves no ssh, ProxyCommand or gateway relay" check_no_stray_after_program_sigkill
rt_check "a client ssh's SIGKILL leaves no program, ssh or gateway relay" check_no_stray_after_ssh_sigkill

# Numbers in lines, as logs are: compressible, not one byte repeated.
COMPRESSIBLE=$RT_DIR/compressible.txt
seq 1 9000000 >"$COMPRESSIBLE"
truncate -s "$((BULK_MIB * 1024 * 1024))" "$COMPRESSIBLE"
rt_check "$BULK_MIB MiB of compressible text, round trip: intact, under half the bytes through squid" \
    check_bulk compressible "$COMPRESSIBLE"
rm -f -- "$COMPRESSIBLE"
rt_make_data "$BULK_MIB"
rt_check "$BULK_MIB MiB of random bytes, round trip: intact, at most 1 % more bytes through squid" \
    check_bulk random "$RT_DATA"
rt_finish
