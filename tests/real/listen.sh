#!/usr/bin/env bash
# Listen mode: corkscrew++ as a local port forwarder through squid (Basic auth).
#   corkscrew++ -x http://alice:...@squid -L [ADDR:]PORT DESTHOST DESTPORT
#   corkscrew++ -x ... -L PORT:DESTHOST:DESTPORT [-L ...]    corkscrew++ -x ... -L unix:PATH[:H:P]
# Every accepted connection is a tunnel through squid to its listener's destination, all of them
# in one process. The destinations: the tests' echo server (CORKSCREW_ECHO_SERVER) and an sshd;
# the load comes from the tests' echo client (CORKSCREW_ECHO_CLIENT), which checks every byte
# echoed. Checked: 200 clients at once, 4 MiB each way each, all open together in the one
# process; --max-connections holding a third client in the backlog until a tunnel ends; clients
# that reset mid-transfer leaving the others alone; no descriptor left after 1,000 connections;
# SIGTERM (and SIGINT) closing the listeners at once and the tunnels after --shutdown-grace; the
# readiness lines on stdout and --ready-fd; ssh and a unix socket through listeners; a live unix
# socket path not taken over; two destinations in one process; the proxy by its host name (each
# lookup on a thread); -v's line per connection; a failing tunnel logged without -v.
set -euo pipefail
RT_NAME=listen
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
rt_require_commands ss mkfifo sha256sum
[[ -n ${CORKSCREW_ECHO_SERVER:-} ]] || rt_die "CORKSCREW_ECHO_SERVER is not set (it names the echo server built from tests/support/echo_server.cpp)"
[[ -x $CORKSCREW_ECHO_SERVER ]] || rt_die "CORKSCREW_ECHO_SERVER=$CORKSCREW_ECHO_SERVER is not an executable file"
[[ -n ${CORKSCREW_ECHO_CLIENT:-} ]] || rt_die "CORKSCREW_ECHO_CLIENT is not set (it names the load client built from tests/support/echo_client.cpp)"
[[ -x $CORKSCREW_ECHO_CLIENT ]] || rt_die "CORKSCREW_ECHO_CLIENT=$CORKSCREW_ECHO_CLIENT is not an executable file"
unset CORKSCREW_AUTH
rt_htpasswd "$RT_DIR/squid.htpasswd" alice 'alice-pw'
rt_start_squid --auth "$RT_DIR/squid.htpasswd"
rt_start_echo_server
rt_start_sshd

PROXY=http://alice:alice-pw@127.0.0.1:$SQUID_PORT
ECHO_DEST=127.0.0.1:$ECHO_PORT
SSH_DEST=127.0.0.1:$SSHD_PORT
# A destination nobody listens on: squid answers 503.
rt_free_port
CLOSED_PORT=$RT_PORT

MIB=$((1024 * 1024))
# The load of the concurrency check: more tunnels than a thread-per-client design shrugs off,
# 4 MiB each way each; then all of them stay open together, idle, for BULK_HOLD_MS (several of
# the samples that count them).
BULK_CONNECTIONS=200
BULK_BYTES=$((4 * MIB))
BULK_HOLD_MS=1000
# Clients that reset their connection halfway, among how many.
VANISH_CONNECTIONS=20
VANISH_COUNT=5
# Sequential connections for the descriptor count: a leak of one per connection shows plainly.
SEQUENTIAL_CONNECTIONS=1000
# Bound for one echo client run (its own --timeout); the process gets a few seconds more.
CLIENT_TIMEOUT=60
# Bound for a line to come back through a fresh tunnel (CONNECT and auth included).
ECHO_TIMEOUT=10
# How long the third client's bytes must stay unanswered while the limit holds: a tunnel set up
# in that time would have echoed them in a few milliseconds.
HELD_BACK_SECONDS=1
# How soon after SIGTERM the listener must refuse connections.
REFUSE_WITHIN=1
# Once its last tunnel has ended (or its grace has run out), the program is gone this fast.
STOP_MARGIN=3
# The grace of the check where it runs out.
SHORT_GRACE=1
# The bulk of the ssh transfers.
rt_make_data 8

# What the checks measured, for the summary at the end (a check runs in a subshell).
FIGURES=$RT_DIR/figures
: >"$FIGURES"

# Background programs started inside a check: stopped by that check's EXIT trap.
LOCAL_PIDS=()




# SIGTERM to every program the check started, a bounded wait, SIGKILL for the rest.
stop_local() {
    local pid
    ((${#LOCAL_PIDS[@]})) || return 0
    for pid in "${LOCAL_PIDS[@]}"; do
        if rt_alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    rt_poll "$RT_STOP_TIMEOUT" "" rt_none_alive "${LOCAL_PIDS[@]}" || true
    for pid in "${LOCAL_PIDS[@]}"; do
        if rt_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
        wait "$pid" 2>/dev/null || true
    done
}

# Started in the background, bash leaves SIGINT ignored, and an ignored signal stays ignored
# across exec: the program gets it at its default, as from a terminal.
DEFAULT_SIGNALS=()
if env --default-signal=INT true 2>/dev/null; then DEFAULT_SIGNALS=(env --default-signal=INT); fi

# start_listener NAME LINES ARGS...: run the program with ARGS in the background (stdout in
# LISTEN_OUT, stderr in LISTEN_ERR) and wait (bounded) for its LINES readiness lines. Sets
# LISTEN_PID. Inside a check, the check's EXIT trap (stop_local) stops it.
start_listener() {
    local name=$1 lines=$2 polls i
    shift 2
    LISTEN_OUT=$RT_DIR/$name.stdout
    LISTEN_ERR=$RT_DIR/$name.stderr
    : >"$LISTEN_OUT"
    rt_say "running: corkscrew++ $*"
    "${DEFAULT_SIGNALS[@]}" "$CORKSCREW_BIN" "$@" </dev/null >"$LISTEN_OUT" 2>"$LISTEN_ERR" &
    LISTEN_PID=$!
    LOCAL_PIDS+=("$LISTEN_PID")
    polls=$(rt_polls "$RT_START_TIMEOUT")
    for ((i = 0; i < polls; i++)); do
        # Whole lines: each with its newline.
        if (($(wc -l <"$LISTEN_OUT") >= lines)); then return 0; fi
        if ! rt_alive "$LISTEN_PID"; then
            rt_show_file "program stdout" "$LISTEN_OUT"
            rt_show_file "program stderr" "$LISTEN_ERR"
            echo "    the program exited before printing its $lines readiness line(s)" >&2
            return 1
        fi
        sleep "$RT_POLL_INTERVAL"
    done
    rt_show_file "program stdout" "$LISTEN_OUT"
    rt_show_file "program stderr" "$LISTEN_ERR"
    echo "    the program printed no $lines readiness line(s) within ${RT_START_TIMEOUT}s" >&2
    return 1
}

# listener_port FILE DEST: set LPORT to the port of the one TCP listener whose readiness line in
# FILE names destination DEST (host:port).
listener_port() {
    local file=$1 dest=$2 lines
    lines=$(grep -E "^listening on 127\\.0\\.0\\.1:[0-9]+ for ${dest//./\\.}\$" "$file") || {
        echo "    no line 'listening on 127.0.0.1:PORT for $dest' in $file" >&2
        rt_show_file "program stdout" "$file"
        return 1
    }
    rt_expect_eq "readiness lines for $dest" 1 "$(wc -l <<<"$lines")"
    LPORT=${lines#listening on 127.0.0.1:}
    LPORT=${LPORT%% *}
    ((LPORT > 0 && LPORT < 65536)) || { echo "    not a port: [$lines]" >&2; return 1; }
}

# run_client NAME ARGS...: the echo client with ARGS (and --timeout); it must exit 0. While it
# runs, CLIENT_WATCH (a command, when set) runs every poll interval. Its summary goes to the log;
# on failure, its complaints and the end of the program's stderr (LOG_ERR) too.
run_client() {
    local name=$1 out=$RT_DIR/$1.client.stdout err=$RT_DIR/$1.client.stderr rc=0 pid polls i
    shift
    "$CORKSCREW_ECHO_CLIENT" --timeout "$CLIENT_TIMEOUT" "$@" >"$out" 2>"$err" &
    pid=$!
    # Its own --timeout bounds it; this loop only watches, and has a bound of its own.
    polls=$(rt_polls $((CLIENT_TIMEOUT + 10)))
    for ((i = 0; i < polls; i++)); do
        rt_alive "$pid" || break
        if [[ -n ${CLIENT_WATCH:-} ]]; then "$CLIENT_WATCH"; fi
        sleep "$RT_POLL_INTERVAL"
    done
    if rt_alive "$pid"; then
        echo "    echo_client still runs 10 s past its own --timeout; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" || rc=$?
    CLIENT_SUMMARY=$(tail -n 1 "$out")
    rt_say "${CLIENT_SUMMARY:-echo_client printed no summary}"
    if ((rc != 0)); then
        echo "    echo_client $* exited with $rc" >&2
        rt_show_file "echo_client stderr" "$err" 20
        [[ -z ${LOG_ERR:-} ]] || rt_show_file "program stderr" "$LOG_ERR" 20
        return 1
    fi
}

# expect_echo FD TEXT: send one line on FD; the same line must come back within ECHO_TIMEOUT.
expect_echo() {
    local fd=$1 text=$2 got="" rc=0
    printf '%s\n' "$text" >&"$fd"
    IFS= read -r -t "$ECHO_TIMEOUT" -u "$fd" got || rc=$?
    if ((rc > 128)); then
        echo "    no echo of [$text] within ${ECHO_TIMEOUT}s" >&2
        return 1
    elif ((rc != 0)); then
        echo "    the connection ended before the echo of [$text] (got [$got])" >&2
        return 1
    fi
    rt_expect_eq "echo" "$text" "$got"
}

# Open a connection to 127.0.0.1:PORT and set CONN_FD to it.
open_conn() {
    exec {CONN_FD}<>"/dev/tcp/127.0.0.1/$1"
}

port_refuses() { ! rt_port_accepts "$1"; }

# Number of lines of FILE matching the extended regular expression RE (0 when none).
count_matching() { grep -cE -- "$2" "$1" || true; }

# poll until FILE has at least N lines matching RE; then print how many (bounded).
wait_matching() {
    local file=$1 re=$2 n=$3
    # shellcheck disable=SC2317 # called by rt_poll
    enough() { (($(count_matching "$file" "$re") >= n)); }
    rt_poll "$RT_LOG_TIMEOUT" "" enough || true
    count_matching "$file" "$re"
}

# squid's access.log lines (after line MARK) of tunnels to DEST for alice: squid writes one when
# the tunnel closes. Waits (bounded) for N of them; prints how many there are.
squid_tunnels_since() {
    local mark=$1 dest=$2 n=$3 since=$RT_DIR/squid-since.log
    # shellcheck disable=SC2317 # called by rt_poll
    enough() {
        tail -n "+$((mark + 1))" "$SQUID_ACCESS_LOG" >"$since"
        (($(count_matching "$since" " TCP_TUNNEL/200 [0-9]+ CONNECT ${dest//./\\.} alice ") >= n))
    }
    rt_poll "$RT_LOG_TIMEOUT" "" enough || true
    count_matching "$since" " TCP_TUNNEL/200 [0-9]+ CONNECT ${dest//./\\.} alice "
}

# Tunnels the program PID holds open to squid right now.
tunnels_to_squid() {
    { ss -Htnp state established "( dport = :$SQUID_PORT )" || true; } | grep -cF "pid=$1," || true
}

# Descriptors the program PID holds.
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# -v's line for one connection to DEST with B bytes each way, ended well.
verbose_ok_re() {
    printf '(^| )127\\.0\\.0\\.1:[0-9]+ -> %s: %s bytes sent, %s bytes received, [0-9]+(\\.[0-9]+)? s, ok$' \
        "${1//./\\.}" "$2" "$2"
}
# -v's line for any connection to DEST.
verbose_any_re() {
    printf '(^| )127\\.0\\.0\\.1:[0-9]+ -> %s: [0-9]+ bytes sent, [0-9]+ bytes received, [0-9]+(\\.[0-9]+)? s, (ok|failed \\(exit [0-9]+\\))$' \
        "${1//./\\.}"
}

# --- the listener most checks share -------------------------------------------------------------

# -v: a line per connection; -L 0: the kernel's choice of port.
if ! start_listener main 1 -v -x "$PROXY" -L 0 127.0.0.1 "$ECHO_PORT"; then
    rt_die "the program did not start listening: corkscrew++ -v -x $PROXY -L 0 127.0.0.1 $ECHO_PORT"
fi
MAIN_PID=$LISTEN_PID
MAIN_OUT=$LISTEN_OUT
MAIN_ERR=$LISTEN_ERR
LOCAL_PIDS=()
rt_track "$MAIN_PID" "corkscrew++ -L"
listener_port "$MAIN_OUT" "$ECHO_DEST" || rt_die "no usable readiness line"
MAIN_PORT=$LPORT
rt_say "listening: $(cat "$MAIN_OUT")"
# First connections may set up what stays for the process's life; the baseline comes after them.
WARM_UP=10
LOG_ERR=$MAIN_ERR run_client warm-up --port "$MAIN_PORT" --sequential --connections "$WARM_UP" --bytes 1024 ||
    rt_die "$WARM_UP short connections through the listener failed"
START_FDS=$(fd_count "$MAIN_PID")

# --- checks -------------------------------------------------------------------------------------

# f. The readiness line names the port the kernel chose, where the program listens.
check_stdout_readiness() {
    local listeners
    rt_expect_eq "lines on stdout" 1 "$(wc -l <"$MAIN_OUT")"
    rt_expect_eq "readiness line" "listening on 127.0.0.1:$MAIN_PORT for $ECHO_DEST" "$(cat "$MAIN_OUT")"
    listeners=$(ss -Htlnp "( sport = :$MAIN_PORT )")
    grep -qF "pid=$MAIN_PID," <<<"$listeners" || {
        echo "    the program (pid $MAIN_PID) does not listen on port $MAIN_PORT: [$listeners]" >&2
        return 1
    }
}

# While the bulk load runs: the most tunnels the program held open to squid at once, its most
# threads, and any child process it started (there must be none: one process serves all).
watch_bulk() {
    local n
    n=$(tunnels_to_squid "$MAIN_PID")
    ((n <= PEAK_TUNNELS)) || PEAK_TUNNELS=$n
    n=$(awk '/^Threads:/ { print $2 }' "/proc/$MAIN_PID/status" 2>/dev/null || echo 0)
    ((n <= PEAK_THREADS)) || PEAK_THREADS=$n
    if pgrep -P "$MAIN_PID" >/dev/null; then CHILDREN=$(pgrep -P "$MAIN_PID" | tr '\n' ' '); fi
}

# a. 200 clients at once, 4 MiB each way each, every byte checked, all tunnels open together in
# the one process; squid carried each, for alice.
check_bulk() {
    local mark got
    PEAK_TUNNELS=0
    PEAK_THREADS=0
    CHILDREN=""
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    # Held open, idle, once all are echoed: all of them open together however slowly the first
    # finish (a build with ThreadSanitizer is some ten times slower), and sampled meanwhile.
    LOG_ERR=$MAIN_ERR CLIENT_WATCH=watch_bulk run_client bulk --port "$MAIN_PORT" \
        --connections "$BULK_CONNECTIONS" --bytes "$BULK_BYTES" --hold-ms "$BULK_HOLD_MS"
    echo "bulk: $CLIENT_SUMMARY; at most $PEAK_TUNNELS tunnels open at once, $PEAK_THREADS threads" >>"$FIGURES"
    rt_say "at most $PEAK_TUNNELS tunnels to squid open at once; the program had at most $PEAK_THREADS threads"
    rt_expect_eq "tunnels open at once at the peak" "$BULK_CONNECTIONS" "$PEAK_TUNNELS"
    rt_expect_eq "child processes of the program" "" "$CHILDREN"
    got=$(squid_tunnels_since "$mark" "$ECHO_DEST" "$BULK_CONNECTIONS")
    rt_expect_eq "squid's tunnels to $ECHO_DEST for alice" "$BULK_CONNECTIONS" "$got" || {
        rt_show_file "squid access.log" "$SQUID_ACCESS_LOG" 10
        return 1
    }
}

# i. -v: one line per connection, with the byte counts, for each of the 200.
check_verbose_lines() {
    local re got ports
    re=$(verbose_ok_re "$ECHO_DEST" "$BULK_BYTES")
    got=$(wait_matching "$MAIN_ERR" "$re" "$BULK_CONNECTIONS")
    rt_expect_eq "-v lines '127.0.0.1:PORT -> $ECHO_DEST: $BULK_BYTES bytes sent, $BULK_BYTES bytes received, T s, ok'" \
        "$BULK_CONNECTIONS" "$got" || { rt_show_file "program stderr" "$MAIN_ERR" 10; return 1; }
    # No other: the warm-up's 10 and these 200 are all the connections so far.
    rt_expect_eq "-v lines for connections to $ECHO_DEST in all" "$((WARM_UP + BULK_CONNECTIONS))" \
        "$(count_matching "$MAIN_ERR" "$(verbose_any_re "$ECHO_DEST")")"
    # One per connection: each names a client port of its own.
    ports=$(grep -E -- "$re" "$MAIN_ERR" | sed -E 's/.*127\.0\.0\.1:([0-9]+) -> .*/\1/' | sort -u | wc -l)
    rt_expect_eq "distinct client ports among them" "$BULK_CONNECTIONS" "$ports"
    rt_say "e.g. $(grep -E -- "$re" "$MAIN_ERR" | tail -n 1)"
}

# c. Clients that reset their connection halfway leave the others intact, and the listener up.
check_vanishing_clients() {
    local before re_ok re_any got
    re_ok=$(verbose_ok_re "$ECHO_DEST" "$BULK_BYTES")
    re_any=$(verbose_any_re "$ECHO_DEST")
    before=$(count_matching "$MAIN_ERR" "$re_any")
    LOG_ERR=$MAIN_ERR run_client vanish --port "$MAIN_PORT" --connections "$VANISH_CONNECTIONS" \
        --bytes "$BULK_BYTES" --vanish "$VANISH_COUNT"
    rt_expect_file_contains "echo_client's summary" "$RT_DIR/vanish.client.stdout" \
        "$((VANISH_CONNECTIONS - VANISH_COUNT)) ok, 0 failed, $VANISH_COUNT vanished as asked"
    # Each of the 20 tunnels ended, and has its -v line; 15 of them whole.
    got=$(wait_matching "$MAIN_ERR" "$re_any" "$((before + VANISH_CONNECTIONS))")
    rt_expect_eq "-v lines for the $VANISH_CONNECTIONS connections" "$VANISH_CONNECTIONS" "$((got - before))"
    rt_expect_eq "-v lines of whole $BULK_BYTES-byte echoes" \
        "$((BULK_CONNECTIONS + VANISH_CONNECTIONS - VANISH_COUNT))" "$(count_matching "$MAIN_ERR" "$re_ok")"
    rt_alive "$MAIN_PID" || { echo "    the program exited" >&2; return 1; }
    LOG_ERR=$MAIN_ERR run_client after-vanish --port "$MAIN_PORT" --connections 5 --bytes "$MIB"
}

# d. Descriptors: as many after 1,000 sequential connections as before (and as before the load).
check_no_fd_leak() {
    local before after
    before=$(fd_count "$MAIN_PID")
    LOG_ERR=$MAIN_ERR run_client sequential --port "$MAIN_PORT" --sequential \
        --connections "$SEQUENTIAL_CONNECTIONS" --bytes 1024
    # The last tunnel's squid side may close a moment after the client saw its EOF.
    # shellcheck disable=SC2317 # called by rt_poll
    settled() { (($(fd_count "$MAIN_PID") == before)); }
    rt_poll "$RT_LOG_TIMEOUT" "" settled || true
    after=$(fd_count "$MAIN_PID")
    rt_say "descriptors of the program: $START_FDS before the load, $before before the $SEQUENTIAL_CONNECTIONS connections, $after after"
    echo "descriptors: $START_FDS before the load, $before before and $after after $SEQUENTIAL_CONNECTIONS sequential connections" >>"$FIGURES"
    if ((after != before)) || ((after != START_FDS)); then
        echo "    descriptor count changed" >&2
        ls -l "/proc/$MAIN_PID/fd" >&2
        return 1
    fi
}

# b. --max-connections 2: a third client waits in the backlog, unanswered, until a tunnel ends.
check_max_connections() {
    local port pid mark c1 c2 c3 got rc=0 line
    trap stop_local EXIT
    start_listener maxconn 1 --max-connections 2 -x "$PROXY" -L 0 127.0.0.1 "$ECHO_PORT"
    pid=$LISTEN_PID
    listener_port "$LISTEN_OUT" "$ECHO_DEST"
    port=$LPORT
    mark=$(rt_log_lines "$LISTEN_ERR")
    open_conn "$port"
    c1=$CONN_FD
    expect_echo "$c1" "first client"
    open_conn "$port"
    c2=$CONN_FD
    expect_echo "$c2" "second client"
    # The kernel completes the handshake for the backlog: the connect itself succeeds.
    open_conn "$port" || { echo "    the third connection was refused, not held in the backlog" >&2; return 1; }
    c3=$CONN_FD
    printf 'third client\n' >&"$c3"
    IFS= read -r -t "$HELD_BACK_SECONDS" -u "$c3" got || rc=$?
    if ((rc == 0)); then
        echo "    the third client's line came back while two tunnels were open: [$got]" >&2
        return 1
    elif ((rc <= 128)); then
        echo "    the third connection ended instead of waiting (read status $rc, got [$got])" >&2
        rt_show_file "program stderr" "$LISTEN_ERR"
        return 1
    fi
    rt_say "the third client's line: no echo within ${HELD_BACK_SECONDS}s"
    rt_expect_eq "tunnels from the program to squid" 2 "$(tunnels_to_squid "$pid")"
    # A line on stderr says that the limit holds new clients back.
    line=$(tail -n "+$((mark + 1))" "$LISTEN_ERR" | grep -iE 'max-connections|limit' | head -n 1) || true
    [[ -n $line ]] || {
        echo "    no line on stderr about the limit (--max-connections 2) being reached" >&2
        rt_show_file "program stderr" "$LISTEN_ERR"
        return 1
    }
    rt_say "the program said: $line"
    # One tunnel ends: the third client gets its tunnel, and its line back.
    exec {c1}>&-
    rc=0
    IFS= read -r -t "$ECHO_TIMEOUT" -u "$c3" got || rc=$?
    ((rc == 0)) || { echo "    no echo for the third client within ${ECHO_TIMEOUT}s after a tunnel ended (read status $rc)" >&2; return 1; }
    rt_expect_eq "the third client's echo" "third client" "$got"
    expect_echo "$c2" "second client, still there"
    expect_echo "$c3" "third client, again"
    rt_expect_eq "tunnels from the program to squid" 2 "$(tunnels_to_squid "$pid")"
    exec {c2}>&- {c3}>&-
}

# e1. SIGTERM: the listener closes at once; the open tunnels (one busy, one interactive) go on,
# and the program exits 0 as soon as they have ended, well inside the default grace (10 s).
# The limit is the process's, not each listener's: two listeners at --max-connections 1, a
# client on each; the second waits, and the waiting costs no CPU (no accept loop spinning).
check_max_connections_two_listeners() {
    local pid p1 p2 c1 c2 got rc=0 before after
    trap stop_local EXIT
    start_listener maxtwo 2 --max-connections 1 -x "$PROXY" -L 0 -L 0 127.0.0.1 "$ECHO_PORT"
    pid=$LISTEN_PID
    p1=$(sed -n '1s/^listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$LISTEN_OUT")
    p2=$(sed -n '2s/^listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$LISTEN_OUT")
    [[ -n $p1 && -n $p2 ]] || { rt_show_file "program stdout" "$LISTEN_OUT"; return 1; }
    open_conn "$p1"
    c1=$CONN_FD
    expect_echo "$c1" "first listener's client"
    open_conn "$p2"
    c2=$CONN_FD
    printf 'second listener client\n' >&"$c2"
    before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    IFS= read -r -t "$HELD_BACK_SECONDS" -u "$c2" got || rc=$?
    after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    ((rc > 128)) || { echo "    the second listener's client was served past the limit (read status $rc, got [$got])" >&2; return 1; }
    # Clock ticks (1/100 s) of CPU while the client waited: a spinning loop takes them all.
    ((after - before <= 10)) || { echo "    $((after - before)) ticks of CPU while waiting at the limit" >&2; return 1; }
    exec {c1}>&-
    rc=0
    IFS= read -r -t "$ECHO_TIMEOUT" -u "$c2" got || rc=$?
    ((rc == 0)) || { echo "    no echo for the waiting client after the other tunnel ended" >&2; return 1; }
    rt_expect_eq "the waiting client's echo" "second listener client" "$got"
    exec {c2}>&-
}

check_sigterm_drains() {
    local port pid busy t rc=0 t0 t_end t_exit out=$RT_DIR/busy.client.stdout err=$RT_DIR/busy.client.stderr
    trap stop_local EXIT
    start_listener drain 1 -x "$PROXY" -L 0 127.0.0.1 "$ECHO_PORT"
    pid=$LISTEN_PID
    listener_port "$LISTEN_OUT" "$ECHO_DEST"
    port=$LPORT
    # Busy: 3 MiB at 1 MiB/s, all of it after the signal.
    "$CORKSCREW_ECHO_CLIENT" --timeout "$CLIENT_TIMEOUT" --port "$port" --bytes $((3 * MIB)) --rate "$MIB" >"$out" 2>"$err" &
    busy=$!
    LOCAL_PIDS+=("$busy")
    rt_poll "$ECHO_TIMEOUT" "$busy" grep -qF "connections echoing" "$out" || {
        echo "    the busy client got no echo" >&2
        rt_show_file "echo_client stderr" "$err"
        return 1
    }
    open_conn "$port"
    t=$CONN_FD
    expect_echo "$t" "before SIGTERM"
    rt_now_us
    t0=$NOW_US
    kill -TERM "$pid"
    rt_poll "$REFUSE_WITHIN" "" port_refuses "$port" || {
        echo "    port $port still accepts connections ${REFUSE_WITHIN}s after SIGTERM" >&2
        return 1
    }
    rt_alive "$pid" || { echo "    the program exited with its tunnels open" >&2; return 1; }
    expect_echo "$t" "during the grace period"
    # The busy tunnel carries on to the end, every byte intact.
    rt_poll "$CLIENT_TIMEOUT" "" rt_none_alive "$busy" || true
    wait "$busy" || rc=$?
    rt_say "busy client: $(tail -n 1 "$out")"
    ((rc == 0)) || { rt_show_file "echo_client stderr" "$err"; return 1; }
    rt_alive "$pid" || { echo "    the program exited with a tunnel open" >&2; return 1; }
    expect_echo "$t" "after the busy client"
    # The last tunnel ends: the program with it.
    exec {t}>&-
    rt_now_us
    t_end=$NOW_US
    rt_poll "$STOP_MARGIN" "" rt_none_alive "$pid" || {
        echo "    the program still runs ${STOP_MARGIN}s after its last tunnel ended" >&2
        return 1
    }
    rt_now_us
    t_exit=$NOW_US
    rc=0
    wait "$pid" || rc=$?
    rt_expect_eq "exit status after SIGTERM" 0 "$rc" || { rt_show_file "program stderr" "$LISTEN_ERR"; return 1; }
    rt_say "exited $(((t_exit - t0) / 1000)) ms after SIGTERM, $(((t_exit - t_end) / 1000)) ms after its last tunnel ended"
}

# e2. SIGINT with --shutdown-grace 1 and an idle tunnel left open: the listener closes at once,
# the tunnel works during the grace, is closed when it runs out, and the program exits 0.
check_grace_runs_out() {
    local port pid t rc=0 got t0 t_closed t_exit waited
    trap stop_local EXIT
    start_listener grace 1 --shutdown-grace "$SHORT_GRACE" -x "$PROXY" -L 0 127.0.0.1 "$ECHO_PORT"
    pid=$LISTEN_PID
    listener_port "$LISTEN_OUT" "$ECHO_DEST"
    port=$LPORT
    open_conn "$port"
    t=$CONN_FD
    expect_echo "$t" "before SIGINT"
    rt_now_us
    t0=$NOW_US
    kill -INT "$pid"
    rt_poll "$REFUSE_WITHIN" "" port_refuses "$port" || {
        echo "    port $port still accepts connections ${REFUSE_WITHIN}s after SIGINT" >&2
        return 1
    }
    expect_echo "$t" "during the grace period"
    # Idle now: the program closes it once the grace has run out.
    IFS= read -r -t "$((SHORT_GRACE + STOP_MARGIN))" -u "$t" got || rc=$?
    rt_now_us
    t_closed=$NOW_US
    if ((rc == 0)); then
        echo "    unexpected line on the tunnel: [$got]" >&2
        return 1
    elif ((rc > 128)); then
        echo "    the tunnel is still open $((SHORT_GRACE + STOP_MARGIN))s after SIGINT (grace ${SHORT_GRACE}s)" >&2
        return 1
    fi
    waited=$(((t_closed - t0) / 1000))
    ((waited >= SHORT_GRACE * 1000 - 100)) || {
        echo "    the tunnel was closed ${waited} ms after SIGINT, before the ${SHORT_GRACE}s grace ran out" >&2
        return 1
    }
    rt_poll "$STOP_MARGIN" "" rt_none_alive "$pid" || {
        echo "    the program still runs ${STOP_MARGIN}s after closing its last tunnel" >&2
        return 1
    }
    rt_now_us
    t_exit=$NOW_US
    rc=0
    wait "$pid" || rc=$?
    rt_expect_eq "exit status after SIGINT" 0 "$rc" || { rt_show_file "program stderr" "$LISTEN_ERR"; return 1; }
    rt_say "tunnel closed ${waited} ms after SIGINT (grace ${SHORT_GRACE}s); exited after $(((t_exit - t0) / 1000)) ms"
    exec {t}>&-
}

# f. --ready-fd 3: the readiness lines of both listeners come on descriptor 3, which is closed
# after them; each listener already accepts when its line is read.
check_ready_fd() {
    local fifo=$RT_DIR/ready.fifo sock=$RT_DIR/ready.sock rd pid rc=0 line lines=() extra port
    trap stop_local EXIT
    mkfifo "$fifo"
    rt_say "running: corkscrew++ --ready-fd 3 -x ... -L 0:$ECHO_DEST -L unix:$sock:$ECHO_DEST 3>FIFO"
    "${DEFAULT_SIGNALS[@]}" "$CORKSCREW_BIN" --ready-fd 3 -x "$PROXY" -L "0:$ECHO_DEST" -L "unix:$sock:$ECHO_DEST" \
        </dev/null >"$RT_DIR/ready.stdout" 2>"$RT_DIR/ready.stderr" 3>"$fifo" &
    pid=$!
    LOCAL_PIDS+=("$pid")
    # Both ends are this script's: the program's side opens the fifo before the program runs.
    exec {rd}<"$fifo"
    while ((${#lines[@]} < 2)); do
        rc=0
        IFS= read -r -t "$RT_START_TIMEOUT" -u "$rd" line || rc=$?
        ((rc == 0)) || {
            echo "    descriptor 3 gave ${#lines[@]} line(s), then $( ((rc > 128)) && echo "nothing for ${RT_START_TIMEOUT}s" || echo EOF)" >&2
            rt_show_file "program stderr" "$RT_DIR/ready.stderr"
            return 1
        }
        lines+=("$line")
    done
    rc=0
    IFS= read -r -t "$RT_LOG_TIMEOUT" -u "$rd" extra || rc=$?
    if ((rc == 0)); then
        echo "    a third line on descriptor 3: [$extra]" >&2
        return 1
    elif ((rc > 128)); then
        echo "    descriptor 3 still open ${RT_LOG_TIMEOUT}s after the readiness lines" >&2
        return 1
    fi
    rt_alive "$pid" || { echo "    the program exited" >&2; rt_show_file "program stderr" "$RT_DIR/ready.stderr"; return 1; }
    rt_say "descriptor 3: [${lines[0]}] [${lines[1]}], then EOF"
    printf '%s\n' "${lines[@]}" >"$RT_DIR/ready.lines"
    rt_expect_file_contains "lines on descriptor 3" "$RT_DIR/ready.lines" "listening on unix:$sock for $ECHO_DEST"
    listener_port "$RT_DIR/ready.lines" "$ECHO_DEST"
    port=$LPORT
    run_client ready-tcp --port "$port" --connections 2 --bytes 65536
    run_client ready-unix --unix "$sock" --connections 2 --bytes 65536
}

# g1. A real program through a listener: ssh to the sshd, then 8 MiB to the remote sha256sum.
check_ssh_through_listener() {
    local mark line port
    trap stop_local EXIT
    start_listener ssh 1 -x "$PROXY" -L "0:$SSH_DEST"
    listener_port "$LISTEN_OUT" "$SSH_DEST"
    port=$LPORT
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    SSHD_PORT=$port rt_expect_ssh_echo_ok ""
    SSHD_PORT=$port rt_transfer_upload ""
    line=$(rt_wait_squid_connect "$SSH_DEST" alice "$mark") || {
        echo "    squid logged no CONNECT $SSH_DEST for alice" >&2
        rt_show_file "squid access.log" "$SQUID_ACCESS_LOG" 10
        return 1
    }
    rt_say "squid logged: $line"
}

# g2. A unix socket listener (its destination from DESTHOST DESTPORT) carrying 20 clients.
check_unix_listener() {
    local sock=$RT_DIR/echo.sock mark got
    trap stop_local EXIT
    start_listener unix 1 -x "$PROXY" -L "unix:$sock" 127.0.0.1 "$ECHO_PORT"
    rt_expect_eq "readiness line" "listening on unix:$sock for $ECHO_DEST" "$(cat "$LISTEN_OUT")"
    [[ -S $sock ]] || { echo "    $sock is not a socket" >&2; return 1; }
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    LOG_ERR=$LISTEN_ERR run_client unix --unix "$sock" --connections 20 --bytes "$MIB"
    got=$(squid_tunnels_since "$mark" "$ECHO_DEST" 20)
    rt_expect_eq "squid's tunnels to $ECHO_DEST for alice" 20 "$got"
}

# g3. A unix socket path where a listener is live is in use, as a TCP port would be: a second
# listener on it must give up (not unlink it and take it over, which would leave the first
# listening on a name nobody can reach, and none at all once the second has gone).
check_unix_path_in_use() {
    local sock=$RT_DIR/in-use.sock first second polls i rc=0 out=$RT_DIR/in-use-2.stdout err=$RT_DIR/in-use-2.stderr
    trap stop_local EXIT
    start_listener in-use-1 1 -x "$PROXY" -L "unix:$sock" 127.0.0.1 "$ECHO_PORT"
    first=$LISTEN_PID
    rt_say "running: corkscrew++ -x ... -L unix:$sock 127.0.0.1 $ECHO_PORT (a second time)"
    "$CORKSCREW_BIN" -x "$PROXY" -L "unix:$sock" 127.0.0.1 "$ECHO_PORT" </dev/null >"$out" 2>"$err" &
    second=$!
    LOCAL_PIDS+=("$second")
    polls=$(rt_polls "$RT_START_TIMEOUT")
    for ((i = 0; i < polls; i++)); do
        rt_alive "$second" || break
        [[ ! -s $out ]] || break
        sleep "$RT_POLL_INTERVAL"
    done
    if rt_alive "$second"; then
        echo "    the second listener took the path over: [$(cat "$out")]" >&2
        kill -TERM "$second"
        rt_poll "$RT_STOP_TIMEOUT" "" rt_none_alive "$second" || true
        if LOG_ERR=$LISTEN_ERR run_client in-use-first --unix "$sock" --connections 1 --bytes 1024; then
            echo "    (the first listener is still reachable)" >&2
        elif rt_alive "$first"; then
            echo "    and now the first listener, still running, cannot be reached through $sock" >&2
        fi
        return 1
    fi
    wait "$second" || rc=$?
    ((rc != 0)) || { echo "    the second listener exited 0" >&2; return 1; }
    rt_say "the second listener exited $rc: $(tail -n 1 "$err")"
    rt_expect_file_contains "the second listener's stderr" "$err" "$sock"
    LOG_ERR=$LISTEN_ERR run_client in-use-first --unix "$sock" --connections 2 --bytes 65536
}

# h. Two -L with their own destinations in one process, both busy at once.
check_two_destinations() {
    local echo_port ssh_port ssh_pid rc=0 got mark out=$RT_DIR/two.ssh.stdout err=$RT_DIR/two.ssh.stderr
    trap stop_local EXIT
    # The second with its address spelled out.
    start_listener two 2 -x "$PROXY" -L "0:$ECHO_DEST" -L "127.0.0.1:0:$SSH_DEST"
    listener_port "$LISTEN_OUT" "$ECHO_DEST"
    echo_port=$LPORT
    listener_port "$LISTEN_OUT" "$SSH_DEST"
    ssh_port=$LPORT
    [[ $echo_port != "$ssh_port" ]] || { echo "    both listeners on port $echo_port" >&2; return 1; }
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    # The ssh upload and the echo clients at the same time, through the one process.
    SSHD_PORT=$ssh_port ssh_via "" sha256sum <"$RT_DATA" >"$out" 2>"$err" &
    ssh_pid=$!
    LOCAL_PIDS+=("$ssh_pid")
    LOG_ERR=$LISTEN_ERR run_client two --port "$echo_port" --connections 20 --bytes "$MIB"
    wait "$ssh_pid" || rc=$?
    ((rc == 0)) || { echo "    ssh through port $ssh_port exited with $rc" >&2; rt_show_file "ssh stderr" "$err"; return 1; }
    rt_expect_eq "SHA-256 computed by the remote side" "$RT_DATA_SUM" "$(cut -d' ' -f1 <"$out")"
    got=$(squid_tunnels_since "$mark" "$ECHO_DEST" 20)
    rt_expect_eq "squid's tunnels to $ECHO_DEST for alice" 20 "$got"
    got=$(squid_tunnels_since "$mark" "$SSH_DEST" 1)
    rt_expect_eq "squid's tunnels to $SSH_DEST for alice" 1 "$got"
}

# The proxy named by its host name: each tunnel looks the name up on a thread of its own, beside
# the event loop that serves the others (the program's only threads: what ThreadSanitizer, in
# the tsan preset's run of this test, watches).
check_proxy_by_name() {
    local mark got
    trap stop_local EXIT
    start_listener byname 1 -x "http://alice:alice-pw@localhost:$SQUID_PORT" -L "0:$ECHO_DEST"
    listener_port "$LISTEN_OUT" "$ECHO_DEST"
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    LOG_ERR=$LISTEN_ERR run_client byname --port "$LPORT" --connections 50 --bytes 65536
    got=$(squid_tunnels_since "$mark" "$ECHO_DEST" 50)
    rt_expect_eq "squid's tunnels to $ECHO_DEST for alice" 50 "$got"
}

# A client whose tunnel fails (squid: 503, nobody listens at the destination): its connection
# ends, the error is on stderr without -v, and -v's line says failed with the exit status that
# `corkscrew++ DESTHOST DESTPORT` has for it (4); the listener goes on.
check_failed_tunnel() {
    local port verbose p c rc got re
    trap stop_local EXIT
    local closed=$CLOSED_PORT verbose_err
    start_listener refused-v 1 -v -x "$PROXY" -L 0 127.0.0.1 "$closed"
    listener_port "$LISTEN_OUT" "127.0.0.1:$closed"
    verbose=$LPORT
    verbose_err=$LISTEN_ERR
    start_listener refused 1 -x "$PROXY" -L 0 127.0.0.1 "$closed"
    listener_port "$LISTEN_OUT" "127.0.0.1:$closed"
    port=$LPORT
    for p in "$port" "$port" "$verbose"; do
        open_conn "$p"
        c=$CONN_FD
        printf 'hello\n' >&"$c"
        rc=0
        IFS= read -r -t "$ECHO_TIMEOUT" -u "$c" got || rc=$?
        ((rc != 0 && rc <= 128)) || {
            echo "    the client's connection did not end within ${ECHO_TIMEOUT}s (read status $rc, got [$got])" >&2
            return 1
        }
        exec {c}>&-
    done
    # Two connections to the listener without -v: two errors naming the destination and the 503.
    # shellcheck disable=SC2317 # called by rt_poll
    errors() { grep -F -- "127.0.0.1:$closed" "$LISTEN_ERR" | grep -cF 503 || true; }
    # shellcheck disable=SC2317 # called by rt_poll
    two_errors() { (($(errors) >= 2)); }
    rt_poll "$RT_LOG_TIMEOUT" "" two_errors || {
        echo "    stderr has $(errors) line(s) naming 127.0.0.1:$closed and 503, not one per connection (2)" >&2
        rt_show_file "program stderr" "$LISTEN_ERR"
        return 1
    }
    rt_say "the program said: $(grep -F -- "127.0.0.1:$closed" "$LISTEN_ERR" | tail -n 1)"
    re=$(printf '(^| )127\\.0\\.0\\.1:[0-9]+ -> 127\\.0\\.0\\.1:%s: [0-9]+ bytes sent, 0 bytes received, [0-9]+(\\.[0-9]+)? s, failed \\(exit 4\\)$' "$closed")
    rt_expect_eq "-v lines 'CLIENT -> 127.0.0.1:$closed: N bytes sent, 0 bytes received, T s, failed (exit 4)'" \
        1 "$(wait_matching "$verbose_err" "$re" 1)" || { rt_show_file "program stderr (-v)" "$verbose_err"; return 1; }
}

rt_check "the readiness line on stdout names the port the kernel chose (-L 0)" check_stdout_readiness
rt_check "$BULK_CONNECTIONS clients at once, $((BULK_BYTES / MIB)) MiB each way each, every byte checked; squid's CONNECTs for alice" check_bulk
rt_check "-v: one line per connection with its byte counts" check_verbose_lines
rt_check "$VANISH_COUNT of $VANISH_CONNECTIONS clients reset mid-transfer: the other $((VANISH_CONNECTIONS - VANISH_COUNT)) intact" check_vanishing_clients
rt_check "no descriptor left after $SEQUENTIAL_CONNECTIONS sequential connections" check_no_fd_leak
rt_check "--max-connections 2: a third client waits in the backlog until a tunnel ends" check_max_connections
rt_check "--max-connections 1 over two listeners: the second's client waits, without spinning" check_max_connections_two_listeners
rt_check "SIGTERM: listener closed at once, open tunnels finish, exit 0 when they end" check_sigterm_drains
rt_check "SIGINT, --shutdown-grace $SHORT_GRACE: an idle tunnel is closed when the grace runs out, exit 0" check_grace_runs_out
rt_check "--ready-fd 3: the readiness lines there, then the descriptor closed" check_ready_fd
rt_check "ssh to the sshd through a listener (-L 0:HOST:PORT), 8 MiB uploaded" check_ssh_through_listener
rt_check "a unix socket listener (-L unix:PATH) carries 20 clients" check_unix_listener
rt_check "a second listener on a live unix socket path gives up; the first keeps it" check_unix_path_in_use
rt_check "two -L with different destinations in one process, both at once" check_two_destinations
rt_check "the proxy by its name (localhost): 50 clients at once, each lookup on a thread" check_proxy_by_name
rt_check "a tunnel that fails (503): the client's connection ends, the error on stderr, the listener goes on" check_failed_tunnel
while IFS= read -r line; do rt_say "$line"; done <"$FIGURES"
rt_finish
