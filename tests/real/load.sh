#!/usr/bin/env bash
# Load and soak in listen mode: corkscrew++ -L as a port forwarder through a real squid to the
# tests' echo server (CORKSCREW_ECHO_SERVER); the load from the tests' echo client
# (CORKSCREW_ECHO_CLIENT), which checks every byte echoed.
#   1. 1,000 tunnels open at once in the one process, 64 KiB each way each, then held open, idle,
#      for a few seconds with all of them up: the listener's descriptors, RSS and tunnels to squid
#      sampled then; afterwards its descriptors back to where they were.
#   2. 10,000 short tunnels one after another (64 bytes each way), in runs of 1,000, through a
#      fresh listener: its descriptors sampled after each run must equal those before the first,
#      and its RSS may grow by at most a small bound between the 1,000th and the 10,000th.
# Both report the set-up time of each tunnel (connect to first echoed byte): p50, p99, max; after
# each, the listener, stopped with SIGTERM, must exit 0. Every byte, connection and tunnel counted
# (the echo client's checks, squid's access.log, the program's -v lines). The figures end the
# output, in one block. Authentication is listen.sh's: squid here takes anyone,
# so that the load is on the tunnels, not on squid's helpers. Timings are measured and shown,
# never asserted: the machine running the tests may be busy.
set -euo pipefail
RT_NAME=load
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
rt_require_commands ss
[[ -n ${CORKSCREW_ECHO_SERVER:-} ]] || rt_die "CORKSCREW_ECHO_SERVER is not set (it names the echo server built from tests/support/echo_server.cpp)"
[[ -x $CORKSCREW_ECHO_SERVER ]] || rt_die "CORKSCREW_ECHO_SERVER=$CORKSCREW_ECHO_SERVER is not an executable file"
[[ -n ${CORKSCREW_ECHO_CLIENT:-} ]] || rt_die "CORKSCREW_ECHO_CLIENT is not set (it names the load client built from tests/support/echo_client.cpp)"
[[ -x $CORKSCREW_ECHO_CLIENT ]] || rt_die "CORKSCREW_ECHO_CLIENT=$CORKSCREW_ECHO_CLIENT is not an executable file"
unset CORKSCREW_AUTH

# --- the load -----------------------------------------------------------------------------------

# Phase 1: tunnels open at once, the bytes each carries each way, and how long all of them stay
# open together, idle, once every echo is whole (the samples are taken in that time).
CONCURRENT=1000
CONCURRENT_BYTES=65536
HOLD_MS=5000
# Phase 2: short tunnels one after another, in runs of RUN (samples after each run), the bytes
# each carries each way.
SEQUENTIAL=10000
RUN=1000
SEQUENTIAL_BYTES=64
# The program's limit on open tunnels: above phase 1's count, so that none waits in the backlog.
MAX_CONNECTIONS=1024
# Descriptors: the program holds two a tunnel (client, squid), squid two (program, echo server),
# the echo client and server one each; with squid's own and the program's few, 1,000 tunnels need
# about 2,100 in the busiest process. The limit leaves ample room, for every process started here.
NOFILE=8192
# RSS may grow this much (KiB) between the samples after the first and after the last run of phase
# 2. Those are 9,000 tunnels apart, each allocating and freeing the same objects, one tunnel at a
# time, in a listener whose heap the first 1,000 have already sized; what one tunnel frees, the
# next reuses, and RSS stays flat (measured: no growth at all, to the KiB, on every relay path).
# Any allocation a tunnel leaks, however small, takes at least 32 bytes of heap (glibc's smallest
# chunk on 64-bit), so 9,000 tunnels grow it by 281 KiB or more (checked: one malloc(1) leaked a
# tunnel grew it by 280 KiB): past this bound, with room left for a few pages of drift. Phase 2 runs in a fresh listener for this reason: in phase
# 1's, the megabytes that 1,000 tunnels at once left free in the heap would take a leak for a long
# time without RSS showing it.
RSS_GROWTH_MAX_KIB=256
# Bounds: one echo client run (its own --timeout; the process gets a few seconds more); the
# descriptors of the last tunnel to close after the client saw its EOF (squid's side closes a
# moment later).
CONCURRENT_TIMEOUT=60
RUN_TIMEOUT=40
SETTLE_TIMEOUT=5
# Connections through a fresh listener before its baseline is taken: the first may set up what
# stays for the process's life.
WARM_UP=10

# A program built with AddressSanitizer keeps freed memory in quarantine, so its RSS grows with
# every tunnel, leak or not: its RSS is shown but not bounded. Its LeakSanitizer reports leaks at
# exit instead, failing the exit status that the test checks after SIGTERM.
SANITIZED=0
if grep -qaF __asan_init "$CORKSCREW_BIN"; then SANITIZED=1; fi

# --- set-up ---------------------------------------------------------------------------------------

# Raise (or set) the descriptor limit before starting anything: squid, the program and the echo
# processes inherit it.
ulimit -n "$NOFILE" 2>/dev/null ||
    rt_die "cannot set the descriptor limit (ulimit -n) to $NOFILE (soft $(ulimit -Sn), hard $(ulimit -Hn)): run as root or raise the hard limit"

rt_now_us
T_START=$NOW_US
rt_start_squid --conf "max_filedescriptors $NOFILE"
rt_start_echo_server
ECHO_DEST=127.0.0.1:$ECHO_PORT
PROXY=http://127.0.0.1:$SQUID_PORT

# What the checks measured, for the summary block at the end (each check runs in a subshell).
FIGURES=$RT_DIR/figures
: >"$FIGURES"
figure() { printf '%s\n' "$*" >>"$FIGURES"; }

# --- helpers --------------------------------------------------------------------------------------

# Descriptors process PID holds; its resident set (VmRSS) and peak resident set (VmHWM) in KiB;
# its threads. "gone" for a process that has ended.
fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
proc_status() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status" 2>/dev/null || echo gone; }
rss_kib() { proc_status "$1" VmRSS; }
hwm_kib() { proc_status "$1" VmHWM; }
threads_of() { proc_status "$1" Threads; }

# Tunnels process PID holds open to squid right now.
tunnels_to_squid() {
    { ss -Htnp state established "( dport = :$SQUID_PORT )" || true; } | grep -cF "pid=$1," || true
}

# Number of lines of FILE matching the extended regular expression RE (0 when none).
count_matching() { grep -cE -- "$2" "$1" || true; }

# squid's access.log lines after line MARK for tunnels to the echo server (squid writes one when a
# tunnel closes): wait (bounded) for N of them, then print how many there are.
squid_tunnels_since() {
    local mark=$1 n=$2 since=$RT_DIR/squid-since.log re
    re=" TCP_TUNNEL/200 [0-9]+ CONNECT ${ECHO_DEST//./\\.} "
    # shellcheck disable=SC2317 # called by rt_poll
    enough() {
        tail -n "+$((mark + 1))" "$SQUID_ACCESS_LOG" >"$since"
        (($(count_matching "$since" "$re") >= n))
    }
    rt_poll "$RT_LOG_TIMEOUT" "" enough || true
    count_matching "$since" "$re"
}

# -v's lines in FILE for connections to the echo server that ended well, and that failed.
verbose_ok() {
    count_matching "$1" "(^| )127\\.0\\.0\\.1:[0-9]+ -> ${ECHO_DEST//./\\.}: [0-9]+ bytes sent, [0-9]+ bytes received, [0-9.]+ s, ok\$"
}
verbose_failed() { count_matching "$1" " -> ${ECHO_DEST//./\\.}: .*, failed \\(exit [0-9]+\\)\$"; }

# start_listener NAME: run the program (-v, one line per tunnel; -L 0, a port the kernel picks)
# in the background; wait (bounded) for its readiness line; then WARM_UP short tunnels through it,
# and its descriptors counted. Sets LISTEN_PID, LISTEN_PORT, LISTEN_ERR, BASE_FDS and BASE_RSS.
# The EXIT trap stops it. Outside the checks only: the EXIT trap does not run in their subshells.
start_listener() {
    local name=$1 out=$RT_DIR/$1.stdout
    LISTEN_ERR=$RT_DIR/$name.stderr
    : >"$out"
    rt_say "running: corkscrew++ -v --max-connections $MAX_CONNECTIONS -x $PROXY -L 0:$ECHO_DEST"
    "$CORKSCREW_BIN" -v --max-connections "$MAX_CONNECTIONS" -x "$PROXY" -L "0:$ECHO_DEST" \
        </dev/null >"$out" 2>"$LISTEN_ERR" &
    LISTEN_PID=$!
    rt_track "$LISTEN_PID" "corkscrew++ -L ($name)"
    rt_wait_listening "$out" "$LISTEN_PID" "$ECHO_DEST" "$LISTEN_ERR"
    LISTEN_PORT=$RT_LISTEN_PORT
    run_client "$name-warm-up" "$RUN_TIMEOUT" --port "$LISTEN_PORT" --sequential \
        --connections "$WARM_UP" --bytes 1024 ||
        rt_die "$WARM_UP short tunnels through the new listener failed"
    BASE_FDS=$(fd_count "$LISTEN_PID")
    BASE_RSS=$(rss_kib "$LISTEN_PID")
}

# Stop the listener LISTEN_PID with SIGTERM (no tunnel open: it exits at once) and set STOP_RC to
# its exit status. Outside the checks: only this shell can wait for it.
stop_listener() {
    STOP_RC=0
    kill -TERM "$LISTEN_PID" 2>/dev/null || true
    if ! rt_poll "$RT_STOP_TIMEOUT" "" rt_none_alive "$LISTEN_PID"; then
        STOP_RC="still running ${RT_STOP_TIMEOUT}s after SIGTERM"
        return 0
    fi
    wait "$LISTEN_PID" || STOP_RC=$?
}

# After stop_listener: it must have exited 0.
check_stopped() {
    rt_expect_eq "exit status after SIGTERM" 0 "$STOP_RC" || {
        rt_show_file "program stderr" "$LISTEN_ERR" 20
        return 1
    }
}

# run_client NAME TIMEOUT ARGS...: the echo client with ARGS, bounded by TIMEOUT (its own
# --timeout, and a few seconds more for the process). It must exit 0. Its summary (last line) in
# CLIENT_SUMMARY.
run_client() {
    local name=$1 timeout=$2 out=$RT_DIR/$1.client.stdout err=$RT_DIR/$1.client.stderr rc=0
    shift 2
    timeout -k 2 "$((timeout + 5))" "$CORKSCREW_ECHO_CLIENT" --timeout "$timeout" "$@" \
        >"$out" 2>"$err" || rc=$?
    client_result "$out" "$err" "$rc"
}

# After an echo client run (stdout OUT, stderr ERR, exit status RC): set CLIENT_SUMMARY; fail, showing its complaints, unless it exited 0.
client_result() {
    local out=$1 err=$2 rc=$3
    CLIENT_SUMMARY=$(tail -n 1 "$out")
    if ((rc != 0)); then
        rt_say "${CLIENT_SUMMARY:-echo_client printed no summary}"
        echo "    echo_client exited with $rc$( ((rc == 124 || rc == 137)) && echo ' (killed: past its bound)')" >&2
        rt_show_file "echo_client stderr" "$err" 20
        rt_show_file "program stderr" "$LISTEN_ERR" 20
        return 1
    fi
}

# Wait (bounded) until process PID holds WANT descriptors; true when it does. (Globals: rt_poll's
# own locals, pid among them, would hide this function's from the command it runs.)
fds_settle() {
    SETTLE_PID=$1
    SETTLE_WANT=$2
    # shellcheck disable=SC2317 # called by rt_poll
    settled() { (($(fd_count "$SETTLE_PID") == SETTLE_WANT)); }
    rt_poll "$SETTLE_TIMEOUT" "" settled
}

# p50, p99 and max (ms) of the set-up times (microseconds, one a line) in FILES, nearest rank.
percentiles() {
    cat -- "$@" | sort -n | awk '
        { t[NR] = $1 }
        END {
            if (NR == 0) { print "no set-up times"; exit }
            r50 = int((NR * 50 + 99) / 100); r99 = int((NR * 99 + 99) / 100)
            printf "p50 %.3f ms, p99 %.3f ms, max %.3f ms (%d tunnels)\n", t[r50] / 1000, t[r99] / 1000, t[NR] / 1000, NR
        }'
}

# --- phase 1 --------------------------------------------------------------------------------------

# 1,000 tunnels open at once, every byte checked, all held open together; sampled at the peak.
check_concurrent() {
    local base_fds=$BASE_FDS base_rss=$BASE_RSS pid=$LISTEN_PID mark
    local out=$RT_DIR/concurrent.client.stdout err=$RT_DIR/concurrent.client.stderr
    local rc=0 held peak_fds peak_rss peak_tunnels peak_threads squid_fds after_fds after_rss hwm t0 t1 got
    local client_ok=1
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    rt_now_us
    t0=$NOW_US
    timeout -k 2 "$((CONCURRENT_TIMEOUT + 5))" "$CORKSCREW_ECHO_CLIENT" --timeout "$CONCURRENT_TIMEOUT" \
        --port "$LISTEN_PORT" --connections "$CONCURRENT" --bytes "$CONCURRENT_BYTES" \
        --hold-ms "$HOLD_MS" --setup-times "$RT_DIR/concurrent.times" >"$out" 2>"$err" &
    held=$!
    # Every echo whole, the tunnels idle and open for HOLD_MS: sample now.
    if ! rt_poll "$((CONCURRENT_TIMEOUT + 5))" "$held" grep -qF "connections echoed, holding" "$out"; then
        wait "$held" || rc=$?
        echo "    the echo client never held its $CONCURRENT connections open together" >&2
        client_result "$out" "$err" "$rc" || true
        return 1
    fi
    peak_tunnels=$(tunnels_to_squid "$pid")
    peak_fds=$(fd_count "$pid")
    peak_rss=$(rss_kib "$pid")
    peak_threads=$(threads_of "$pid")
    squid_fds=$(fd_count "$SQUID_PID")
    rt_say "$(grep -F 'holding' "$out" | sed 's/^echo_client: //'): the program holds $peak_tunnels tunnels to squid, $peak_fds descriptors, RSS $peak_rss KiB, $peak_threads thread(s)"
    wait "$held" || rc=$?
    rt_now_us
    t1=$NOW_US
    # Its failure is reported after the figures, which show how far it got.
    client_result "$out" "$err" "$rc" || client_ok=0
    rt_say "$CLIENT_SUMMARY"
    rt_alive "$pid" || { echo "    the program exited" >&2; rt_show_file "program stderr" "$LISTEN_ERR"; return 1; }
    fds_settle "$pid" "$base_fds" || true
    after_fds=$(fd_count "$pid")
    after_rss=$(rss_kib "$pid")
    hwm=$(hwm_kib "$pid")
    got=$(squid_tunnels_since "$mark" "$CONCURRENT")

    figure "phase 1: $CONCURRENT tunnels at once through squid, $CONCURRENT_BYTES bytes each way each, then all held open together, idle, ${HOLD_MS} ms"
    figure "  client:   ${CLIENT_SUMMARY#echo_client: }"
    figure "  set-up:   $(percentiles "$RT_DIR/concurrent.times") (connect to first echoed byte)"
    figure "  at the peak: $peak_tunnels tunnels from the program to squid; program: $peak_fds descriptors, RSS $peak_rss KiB, $peak_threads thread(s); squid: $squid_fds descriptors"
    figure "  program:  $base_fds descriptors and RSS $base_rss KiB before, $after_fds descriptors and RSS $after_rss KiB after (peak RSS $hwm KiB)"
    figure "  squid:    $got tunnels logged (TCP_TUNNEL/200)"
    figure "  duration: $(((t1 - t0) / 1000)) ms, the ${HOLD_MS} ms hold included"

    ((client_ok)) || return 1
    rt_expect_eq "connections holding at once" "echo_client: all $CONCURRENT connections echoed, holding $HOLD_MS ms" \
        "$(grep -F 'holding' "$out")"
    rt_expect_eq "tunnels from the program to squid while all were held" "$CONCURRENT" "$peak_tunnels"
    # Two descriptors a tunnel: the client's and squid's.
    rt_expect_eq "the program's descriptors while all were held" "$((base_fds + 2 * CONCURRENT))" "$peak_fds"
    rt_expect_eq "echo_client's count" "$CONCURRENT ok, 0 failed" \
        "$(grep -oE '[0-9]+ ok, [0-9]+ failed' <<<"$CLIENT_SUMMARY")"
    rt_expect_eq "bytes checked" "$((CONCURRENT * CONCURRENT_BYTES)) bytes sent, $((CONCURRENT * CONCURRENT_BYTES)) bytes received and checked" \
        "$(grep -oE '[0-9]+ bytes sent, [0-9]+ bytes received and checked' <<<"$CLIENT_SUMMARY")"
    rt_expect_eq "the program's descriptors once the tunnels had closed" "$base_fds" "$after_fds" || {
        ls -l "/proc/$pid/fd" >&2
        return 1
    }
    rt_expect_eq "squid's tunnels to $ECHO_DEST" "$CONCURRENT" "$got"
    rt_expect_eq "-v lines of tunnels ended well" "$((WARM_UP + CONCURRENT))" "$(verbose_ok "$LISTEN_ERR")"
    rt_expect_eq "-v lines of failed tunnels" 0 "$(verbose_failed "$LISTEN_ERR")"
    rt_alive "$pid" || { echo "    the program exited" >&2; return 1; }
}

# --- phase 2 --------------------------------------------------------------------------------------

# 10,000 short tunnels one after another through a fresh listener, sampled after every 1,000.
check_sequential() {
    local pid=$LISTEN_PID base_fds=$BASE_FDS run done_count fds rss first_rss="" last_rss="" mark got
    local t0 t1 fd_bad=0 samples=$RT_DIR/samples times=() bad=0 line
    : >"$samples"
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    rt_now_us
    t0=$NOW_US
    for ((run = 1; run * RUN <= SEQUENTIAL; run++)); do
        done_count=$((run * RUN))
        # A seed of its own each run: no two tunnels carry the same bytes.
        run_client "sequential-$run" "$RUN_TIMEOUT" --port "$LISTEN_PORT" --sequential \
            --connections "$RUN" --bytes "$SEQUENTIAL_BYTES" --seed "$((run + 1))" \
            --setup-times "$RT_DIR/sequential-$run.times" || {
            echo "    run $run of $((SEQUENTIAL / RUN)) (tunnels $((done_count - RUN + 1)) to $done_count) failed" >&2
            return 1
        }
        rt_expect_eq "echo_client's count, run $run" "$RUN ok, 0 failed" \
            "$(grep -oE '[0-9]+ ok, [0-9]+ failed' <<<"$CLIENT_SUMMARY")"
        rt_expect_eq "bytes checked, run $run" "$((RUN * SEQUENTIAL_BYTES)) bytes sent, $((RUN * SEQUENTIAL_BYTES)) bytes received and checked" \
            "$(grep -oE '[0-9]+ bytes sent, [0-9]+ bytes received and checked' <<<"$CLIENT_SUMMARY")"
        times+=("$RT_DIR/sequential-$run.times")
        rt_alive "$pid" || { echo "    the program exited" >&2; rt_show_file "program stderr" "$LISTEN_ERR"; return 1; }
        # Once descriptors differ, waiting for them again only slows the failure down.
        if ((fd_bad == 0)); then fds_settle "$pid" "$base_fds" || fd_bad=1; fi
        fds=$(fd_count "$pid")
        rss=$(rss_kib "$pid")
        [[ -n $first_rss ]] || first_rss=$rss
        last_rss=$rss
        printf '%6d tunnels: %d descriptors, RSS %d KiB; set-up %s\n' "$done_count" "$fds" "$rss" \
            "$(percentiles "$RT_DIR/sequential-$run.times")" >>"$samples"
        rt_say "$done_count tunnels: $fds descriptors (baseline $base_fds), RSS $rss KiB"
    done
    rt_now_us
    t1=$NOW_US
    got=$(squid_tunnels_since "$mark" "$SEQUENTIAL")

    figure "phase 2: $SEQUENTIAL tunnels one after another through squid, $SEQUENTIAL_BYTES bytes each way each, a fresh listener"
    figure "  set-up:   $(percentiles "${times[@]}") (connect to first echoed byte)"
    figure "  program:  $base_fds descriptors after the warm-up ($WARM_UP tunnels); after each run of $RUN:"
    while IFS= read -r line; do figure "    $line"; done <"$samples"
    figure "  RSS growth from $RUN to $SEQUENTIAL tunnels: $((last_rss - first_rss)) KiB (bound $RSS_GROWTH_MAX_KIB KiB)"
    figure "  squid:    $got tunnels logged (TCP_TUNNEL/200)"
    figure "  duration: $(((t1 - t0) / 1000)) ms, $(((t1 - t0) / SEQUENTIAL)) us a tunnel"

    while IFS= read -r line; do
        [[ $line =~ ^\ *([0-9]+)\ tunnels:\ ([0-9]+)\ descriptors ]] || continue
        if ((BASH_REMATCH[2] != base_fds)); then
            echo "    after ${BASH_REMATCH[1]} tunnels the program holds ${BASH_REMATCH[2]} descriptors, not $base_fds" >&2
            bad=1
        fi
    done <"$samples"
    if ((bad)); then
        ls -l "/proc/$pid/fd" >&2
        return 1
    fi
    if ((SANITIZED)); then
        rt_say "built with AddressSanitizer: RSS growth not bounded (its quarantine holds freed memory)"
    elif ((last_rss - first_rss > RSS_GROWTH_MAX_KIB)); then
        echo "    RSS grew by $((last_rss - first_rss)) KiB between $RUN and $SEQUENTIAL tunnels (bound $RSS_GROWTH_MAX_KIB KiB)" >&2
        return 1
    fi
    rt_expect_eq "squid's tunnels to $ECHO_DEST" "$SEQUENTIAL" "$got"
    rt_expect_eq "-v lines of tunnels ended well" "$((WARM_UP + SEQUENTIAL))" "$(verbose_ok "$LISTEN_ERR")"
    rt_expect_eq "-v lines of failed tunnels" 0 "$(verbose_failed "$LISTEN_ERR")"
    rt_alive "$pid" || { echo "    the program exited" >&2; return 1; }
}

start_listener concurrent
rt_check "$CONCURRENT tunnels at once, $CONCURRENT_BYTES bytes each way each, all held open ${HOLD_MS} ms; descriptors back to the baseline" check_concurrent
stop_listener
rt_check "SIGTERM after phase 1: the listener exits 0" check_stopped
start_listener sequential
rt_check "$SEQUENTIAL short tunnels one after another: descriptors at the baseline after each $RUN, RSS growth under $RSS_GROWTH_MAX_KIB KiB" check_sequential

stop_listener
rt_check "SIGTERM after phase 2: the listener exits 0" check_stopped

rt_now_us
rt_say "===== load summary ====="
while IFS= read -r line; do rt_say "$line"; done <"$FIGURES"
if grep -qi 'running out of filedescriptors' "$SQUID_CACHE_LOG" 2>/dev/null; then
    rt_say "squid warned: $(grep -i 'running out of filedescriptors' "$SQUID_CACHE_LOG" | tail -n 1)"
fi
rt_say "descriptor limit (ulimit -n): $NOFILE; total time $(((NOW_US - T_START) / 1000)) ms"
rt_say "========================"
rt_finish
