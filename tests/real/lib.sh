# shellcheck shell=bash
#
# Helpers for the tests (and tools/demo) that run real servers on loopback:
# squid, tinyproxy and sshd, each on a free 127.0.0.1 high port, all files in
# one temporary folder. Source this file; sourcing it creates that folder and
# installs an EXIT trap that stops every server started and removes the folder
# (set RT_KEEP_TMP=1 to keep the folder for a post-mortem).
#
# Every wait is a bounded poll on a port, a file or a process, never a fixed
# sleep: a server that does not come up fails the test with its log.

set -euo pipefail

# Bounds for the polls below. A server that has not opened its port after
# RT_START_TIMEOUT seconds is broken, not slow.
RT_START_TIMEOUT=${RT_START_TIMEOUT:-30}
RT_STOP_TIMEOUT=${RT_STOP_TIMEOUT:-10}
RT_LOG_TIMEOUT=${RT_LOG_TIMEOUT:-10}
# Pause between two polls (seconds).
RT_POLL_INTERVAL=0.05
# Upper bound for one ssh session or one direct run of the program.
RT_CMD_TIMEOUT=${RT_CMD_TIMEOUT:-120}
# Listening ports are drawn below Linux's default ephemeral range (32768-60999),
# where outgoing connections take their local ports.
RT_PORT_MIN=20000
RT_PORT_MAX=32000
RT_PORT_TRIES=200

RT_PIDS=()
RT_PID_NAMES=()
RT_USED_PORTS=()
RT_FAILED=()
RT_COUNTER=0
RT_USER=$(id -un)

# --- messages ----------------------------------------------------------------

rt_say() { printf '[%s] %s\n' "${RT_NAME:-real}" "$*" >&2; }

# Print the last lines of a file, indented, under a heading.
rt_show_file() {
    local label=$1 file=$2 lines=${3:-40}
    if [[ -s $file ]]; then
        printf -- '----- %s (%s, last %d lines) -----\n' "$label" "$file" "$lines" >&2
        tail -n "$lines" -- "$file" | sed 's/^/    /' >&2
        printf -- '----- end of %s -----\n' "$label" >&2
    else
        printf -- '----- %s (%s): empty or missing -----\n' "$label" "$file" >&2
    fi
}

rt_die() {
    printf '[%s] FAIL: %s\n' "${RT_NAME:-real}" "$*" >&2
    exit 1
}

# --- temp folder and cleanup --------------------------------------------------

# True while process PID runs. A server is a background job of this shell, so
# once it has exited it may linger as a zombie until reaped: that counts as
# gone.
rt_alive() {
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $state && $state != Z ]]
}

# Stop every tracked server: SIGTERM to all at once (squid alone needs a few
# seconds to shut down), a bounded wait for all, then SIGKILL for the rest.
rt_stop_all() {
    local i polls pid any
    for pid in "${RT_PIDS[@]}"; do
        if rt_alive "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    polls=$(rt_polls "$RT_STOP_TIMEOUT")
    for ((i = 0; i < polls; i++)); do
        any=0
        for pid in "${RT_PIDS[@]}"; do
            if rt_alive "$pid"; then any=1; fi
        done
        ((any)) || break
        sleep "$RT_POLL_INTERVAL"
    done
    for ((i = 0; i < ${#RT_PIDS[@]}; i++)); do
        pid=${RT_PIDS[i]}
        if rt_alive "$pid"; then
            rt_say "${RT_PID_NAMES[i]} (pid $pid) ignored SIGTERM for ${RT_STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    RT_PIDS=()
    RT_PID_NAMES=()
}

rt_cleanup() {
    local rc=$?
    set +e
    rt_stop_all
    if [[ ${RT_KEEP_TMP:-0} == 1 ]]; then
        rt_say "kept temporary folder $RT_DIR"
    else
        rm -rf -- "$RT_DIR"
    fi
    exit "$rc"
}

RT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/corkscrew-real.XXXXXX")
trap rt_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# squid drops privileges to user `proxy` when started as root: that user must
# reach the files below this folder.
chmod 755 "$RT_DIR"

# Remember a background server so that the EXIT trap stops it.
rt_track() {
    RT_PIDS+=("$1")
    RT_PID_NAMES+=("$2")
}

# Make a fresh sub-folder of the temp folder and set RT_SUBDIR to it. (Not a
# command substitution: the counter must survive.)
rt_subdir() {
    RT_COUNTER=$((RT_COUNTER + 1))
    RT_SUBDIR="$RT_DIR/$1-$RT_COUNTER"
    mkdir -p "$RT_SUBDIR"
}

# --- polling ------------------------------------------------------------------

# Number of polls that fit in SECONDS.
rt_polls() { awk -v s="$1" -v i="$RT_POLL_INTERVAL" 'BEGIN { printf "%d\n", s / i + 1 }'; }

# True when something accepts TCP connections on 127.0.0.1:PORT.
rt_port_accepts() {
    # shellcheck disable=SC2016 # $1 is expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# Wait until server NAME (pid PID, log LOG) accepts on PORT; die if the process
# exits or the deadline passes.
rt_wait_port() {
    local port=$1 pid=$2 name=$3 log=$4 polls i
    polls=$(rt_polls "$RT_START_TIMEOUT")
    for ((i = 0; i < polls && SECONDS < RT_DEADLINE; i++)); do
        if ! rt_alive "$pid"; then
            rt_show_file "$name log" "$log"
            rt_die "$name exited before accepting connections on 127.0.0.1:$port"
        fi
        if rt_port_accepts "$port"; then
            # A server that lost its port to another process exits: accept
            # only while ours still runs.
            rt_alive "$pid" && return 0
        fi
        sleep "$RT_POLL_INTERVAL"
    done
    rt_show_file "$name log" "$log"
    rt_die "$name did not accept connections on 127.0.0.1:$port within ${RT_START_TIMEOUT}s"
}

# Wait until FILE contains the fixed string TEXT (bounded). Returns 1 on
# timeout, so that the caller can say what it expected.
rt_wait_for_text() {
    local file=$1 text=$2 timeout=${3:-$RT_LOG_TIMEOUT} polls i
    polls=$(rt_polls "$timeout")
    for ((i = 0; i < polls; i++)); do
        if [[ -f $file ]] && grep -qF -- "$text" "$file"; then
            return 0
        fi
        sleep "$RT_POLL_INTERVAL"
    done
    return 1
}

# Set RT_PORT to a free port of 127.0.0.1: nothing accepts on it and it was
# not handed out before. (Not a command substitution: the list of ports
# handed out must survive.)
rt_free_port() {
    local i p used
    for ((i = 0; i < RT_PORT_TRIES; i++)); do
        RT_PORT=$((RT_PORT_MIN + (RANDOM * 32768 + RANDOM) % (RT_PORT_MAX - RT_PORT_MIN)))
        used=0
        for p in "${RT_USED_PORTS[@]}"; do
            if [[ $p == "$RT_PORT" ]]; then used=1; fi
        done
        if ((used == 0)) && ! rt_port_accepts "$RT_PORT"; then
            RT_USED_PORTS+=("$RT_PORT")
            return 0
        fi
    done
    rt_die "found no free port in $RT_PORT_MIN-$RT_PORT_MAX after $RT_PORT_TRIES tries"
}

# --- requirements -------------------------------------------------------------

# Die unless every named command exists.
rt_require_commands() {
    local missing=() c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || [[ -x $c ]] || missing+=("$c")
    done
    if ((${#missing[@]})); then
        rt_die "missing required command(s): ${missing[*]} (install: squid tinyproxy openssh-server openssh-client apache2-utils git; see tools/packages.txt)"
    fi
}

# Die unless CORKSCREW_BIN names the program to test.
rt_require_program() {
    [[ -n ${CORKSCREW_BIN:-} ]] || rt_die "CORKSCREW_BIN is not set (it names the corkscrew++ binary under test)"
    [[ -x $CORKSCREW_BIN ]] || rt_die "CORKSCREW_BIN=$CORKSCREW_BIN is not an executable file"
}

rt_sshd_bin() {
    local s
    s=$(command -v sshd 2>/dev/null || true)
    [[ -n $s ]] || s=/usr/sbin/sshd
    [[ -x $s ]] || rt_die "sshd not found (install openssh-server)"
    printf '%s\n' "$s"
}

rt_squid_bin() {
    local s
    s=$(command -v squid 2>/dev/null || true)
    [[ -n $s ]] || s=/usr/sbin/squid
    [[ -x $s ]] || rt_die "squid not found (install squid)"
    printf '%s\n' "$s"
}

rt_tinyproxy_bin() {
    local s
    s=$(command -v tinyproxy 2>/dev/null || true)
    [[ -n $s ]] || s=/usr/bin/tinyproxy
    [[ -x $s ]] || rt_die "tinyproxy not found (install tinyproxy)"
    printf '%s\n' "$s"
}

# --- squid --------------------------------------------------------------------

# Add USER with PASSWORD to the htpasswd file FILE (created if missing).
rt_htpasswd() {
    local file=$1 user=$2 pass=$3
    rt_require_commands htpasswd
    if [[ -f $file ]]; then
        htpasswd -b "$file" "$user" "$pass" 2>/dev/null
    else
        htpasswd -b -c "$file" "$user" "$pass" 2>/dev/null
    fi
    chmod 644 "$file"
}

# rt_start_squid [--auth HTPASSWD_FILE] [--deny-port PORT]...
# Start squid on a free port allowing CONNECT to any port, except the ports
# given with --deny-port; with --auth, only for users of HTPASSWD_FILE (Basic).
# Sets SQUID_PORT, SQUID_DIR, SQUID_ACCESS_LOG, SQUID_CACHE_LOG, SQUID_PID.
rt_start_squid() {
    local auth_file="" deny_ports=() squid
    while (($#)); do
        case $1 in
            --auth) auth_file=$2; shift 2 ;;
            --deny-port) deny_ports+=("$2"); shift 2 ;;
            *) rt_die "rt_start_squid: unknown argument $1" ;;
        esac
    done
    squid=$(rt_squid_bin)
    rt_subdir squid
    SQUID_DIR=$RT_SUBDIR
    rt_free_port
    SQUID_PORT=$RT_PORT
    SQUID_ACCESS_LOG=$SQUID_DIR/access.log
    SQUID_CACHE_LOG=$SQUID_DIR/cache.log
    local conf=$SQUID_DIR/squid.conf out=$SQUID_DIR/stderr.log
    {
        echo "http_port 127.0.0.1:$SQUID_PORT"
        echo "visible_hostname corkscrew-test"
        echo "pid_filename $SQUID_DIR/squid.pid"
        echo "access_log stdio:$SQUID_ACCESS_LOG"
        echo "cache_log $SQUID_CACHE_LOG"
        echo "cache_store_log none"
        echo "netdb_filename none"
        echo "logfile_rotate 0"
        echo "pinger_enable off"
        echo "cache deny all"
        echo "cache_mem 8 MB"
        echo "shutdown_lifetime 1 seconds"
        echo "acl anyport port 1-65535"
        local p
        for p in "${deny_ports[@]}"; do
            echo "acl denied_$p port $p"
            echo "http_access deny CONNECT denied_$p"
        done
        if [[ -n $auth_file ]]; then
            [[ -x /usr/lib/squid/basic_ncsa_auth ]] || rt_die "/usr/lib/squid/basic_ncsa_auth not found (package squid)"
            echo "auth_param basic program /usr/lib/squid/basic_ncsa_auth $auth_file"
            echo "auth_param basic children 3 startup=1 idle=1"
            echo "auth_param basic realm corkscrew-test"
            echo "acl authenticated proxy_auth REQUIRED"
            echo "http_access allow CONNECT anyport authenticated"
        else
            echo "http_access allow CONNECT anyport"
        fi
        echo "http_access deny all"
    } >"$conf"
    if ((EUID == 0)); then
        # squid writes its pid file and logs after switching to `proxy`.
        chown proxy "$SQUID_DIR" 2>/dev/null || chmod 777 "$SQUID_DIR"
    fi
    RT_DEADLINE=$((SECONDS + RT_START_TIMEOUT))
    "$squid" -N -d0 -f "$conf" </dev/null >"$out" 2>&1 &
    SQUID_PID=$!
    rt_track "$SQUID_PID" squid
    # squid logs to stderr until it has read cache_log; show both on failure.
    if ! (rt_wait_port "$SQUID_PORT" "$SQUID_PID" squid "$out"); then
        rt_show_file "squid cache.log" "$SQUID_CACHE_LOG"
        exit 1
    fi
}

# Wait (bounded) for squid's access.log line for CONNECT to DEST (host:port),
# optionally with user USER; print it. Returns 1 if no such line appears.
rt_wait_squid_connect() {
    local dest=$1 user=${2:-} text
    text="CONNECT $dest"
    [[ -n $user ]] && text="CONNECT $dest $user "
    if rt_wait_for_text "$SQUID_ACCESS_LOG" "$text"; then
        grep -F -- "$text" "$SQUID_ACCESS_LOG" | tail -n 1
        return 0
    fi
    return 1
}

# --- tinyproxy ----------------------------------------------------------------

# rt_start_tinyproxy [--connect-port PORT]...
# Start tinyproxy on a free port; with --connect-port, CONNECT is allowed to
# those ports only (tinyproxy's ConnectPort), else to every port.
# Sets TINYPROXY_PORT, TINYPROXY_DIR, TINYPROXY_LOG, TINYPROXY_PID.
rt_start_tinyproxy() {
    local connect_ports=() tinyproxy p
    while (($#)); do
        case $1 in
            --connect-port) connect_ports+=("$2"); shift 2 ;;
            *) rt_die "rt_start_tinyproxy: unknown argument $1" ;;
        esac
    done
    tinyproxy=$(rt_tinyproxy_bin)
    rt_subdir tinyproxy
    TINYPROXY_DIR=$RT_SUBDIR
    rt_free_port
    TINYPROXY_PORT=$RT_PORT
    TINYPROXY_LOG=$TINYPROXY_DIR/tinyproxy.log
    local conf=$TINYPROXY_DIR/tinyproxy.conf out=$TINYPROXY_DIR/stderr.log
    {
        echo "Port $TINYPROXY_PORT"
        echo "Listen 127.0.0.1"
        echo "Allow 127.0.0.1"
        echo "Timeout 120"
        echo "MaxClients 20"
        echo "PidFile \"$TINYPROXY_DIR/tinyproxy.pid\""
        echo "LogFile \"$TINYPROXY_LOG\""
        echo "LogLevel Info"
        for p in "${connect_ports[@]}"; do
            echo "ConnectPort $p"
        done
    } >"$conf"
    if ((EUID == 0)); then
        # tinyproxy started as root switches to `nobody`.
        echo "User nobody" >>"$conf"
        echo "Group nogroup" >>"$conf"
        chmod 777 "$TINYPROXY_DIR"
    fi
    RT_DEADLINE=$((SECONDS + RT_START_TIMEOUT))
    "$tinyproxy" -d -c "$conf" </dev/null >"$out" 2>&1 &
    TINYPROXY_PID=$!
    rt_track "$TINYPROXY_PID" tinyproxy
    if ! (rt_wait_port "$TINYPROXY_PORT" "$TINYPROXY_PID" tinyproxy "$out"); then
        rt_show_file "tinyproxy log" "$TINYPROXY_LOG"
        exit 1
    fi
}

# --- sshd ---------------------------------------------------------------------

# True when the account USER is locked (password field "!..."); sshd without
# PAM refuses even key logins to such accounts. Only root can tell.
rt_account_locked() {
    local field
    ((EUID == 0)) || return 1
    field=$(getent shadow "$1" 2>/dev/null | cut -d: -f2) || return 1
    [[ $field == '!'* || $field == '*LK*'* ]]
}

# Start sshd on a free port, for key logins of the current user with a
# generated client key. Sets SSHD_PORT, SSHD_DIR, SSHD_LOG, SSHD_PID,
# SSH_CLIENT_KEY. Works as root and as a normal user.
rt_start_sshd() {
    local sshd opts
    rt_require_commands ssh ssh-keygen
    sshd=$(rt_sshd_bin)
    rt_subdir sshd
    SSHD_DIR=$RT_SUBDIR
    rt_free_port
    SSHD_PORT=$RT_PORT
    SSHD_LOG=$SSHD_DIR/sshd.log
    SSH_CLIENT_KEY=$SSHD_DIR/client_ed25519
    ssh-keygen -q -t ed25519 -N '' -C corkscrew-test-host -f "$SSHD_DIR/host_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C corkscrew-test-client -f "$SSH_CLIENT_KEY"
    cp "$SSH_CLIENT_KEY.pub" "$SSHD_DIR/authorized_keys"
    chmod 600 "$SSHD_DIR/authorized_keys"
    if ((EUID == 0)); then
        # Privilege separation needs this empty folder when sshd runs as root.
        mkdir -p /run/sshd
        chmod 755 /run/sshd
    fi
    opts=(
        -f /dev/null
        -o "Port=$SSHD_PORT"
        -o ListenAddress=127.0.0.1
        -o "HostKey=$SSHD_DIR/host_ed25519"
        -o "PidFile=$SSHD_DIR/sshd.pid"
        -o "AuthorizedKeysFile=$SSHD_DIR/authorized_keys"
        -o StrictModes=no
        -o PermitRootLogin=prohibit-password
        -o PasswordAuthentication=no
        -o KbdInteractiveAuthentication=no
        -o LogLevel=VERBOSE
    )
    if rt_account_locked "$RT_USER"; then
        opts+=(-o UsePAM=yes)
    fi
    # OpenSSH 9.8+ penalises sources whose connections end before login (the
    # readiness probe, the failure tests); loopback is not an attacker here.
    if "$sshd" -t "${opts[@]}" -o PerSourcePenalties=no >/dev/null 2>&1; then
        opts+=(-o PerSourcePenalties=no)
    fi
    RT_DEADLINE=$((SECONDS + RT_START_TIMEOUT))
    "$sshd" -D -E "$SSHD_LOG" "${opts[@]}" </dev/null >"$SSHD_DIR/stderr.log" 2>&1 &
    SSHD_PID=$!
    rt_track "$SSHD_PID" sshd
    if ! (rt_wait_port "$SSHD_PORT" "$SSHD_PID" sshd "$SSHD_LOG"); then
        rt_show_file "sshd stderr" "$SSHD_DIR/stderr.log"
        exit 1
    fi
}

# --- running the program and ssh ----------------------------------------------

# Quote one word for the shell that ssh starts for a ProxyCommand, and double
# each '%' so that ssh does not take it for one of its %-escapes.
rt_proxy_word() {
    local q
    printf -v q '%q' "$1"
    printf '%s' "${q//%/%%}"
}

# Print a ProxyCommand that runs the program with ARGS. The words %h and %p
# are passed to ssh as they are; every other word is quoted.
#   rt_proxycmd 127.0.0.1 3128 %h %p          -> '/path/corkscrew++ 127.0.0.1 3128 %h %p'
rt_proxycmd() {
    local out a
    out=$(rt_proxy_word "$CORKSCREW_BIN")
    for a in "$@"; do
        case $a in
            %h | %p) out+=" $a" ;;
            *) out+=" $(rt_proxy_word "$a")" ;;
        esac
    done
    printf '%s\n' "$out"
}

# The ssh options every test uses (without ProxyCommand), as words.
rt_ssh_options() {
    RT_SSH_OPTS=(
        -F /dev/null
        -o BatchMode=yes
        -o StrictHostKeyChecking=no
        -o UserKnownHostsFile=/dev/null
        -o LogLevel=ERROR
        -o IdentitiesOnly=yes
        -o IdentityAgent=none
        -o ConnectTimeout=30
        -i "$SSH_CLIENT_KEY"
        -p "$SSHD_PORT"
    )
}

# ssh_via PROXYCMD COMMAND...: run COMMAND on the test sshd through
# ProxyCommand PROXYCMD (an empty PROXYCMD connects directly). stdin, stdout
# and stderr are the caller's (stdin is /dev/null when it is a terminal).
ssh_via() {
    local proxycmd=$1
    shift
    rt_ssh_options
    local extra=()
    [[ -n $proxycmd ]] && extra=(-o "ProxyCommand=$proxycmd")
    if [[ -t 0 ]]; then
        timeout "$RT_CMD_TIMEOUT" ssh "${RT_SSH_OPTS[@]}" "${extra[@]}" "$RT_USER@127.0.0.1" "$@" </dev/null
    else
        timeout "$RT_CMD_TIMEOUT" ssh "${RT_SSH_OPTS[@]}" "${extra[@]}" "$RT_USER@127.0.0.1" "$@"
    fi
}

# Run `echo ok` over ssh through PROXYCMD and expect "ok"; on failure show
# ssh's stderr (which holds the program's) and the sshd log.
rt_expect_ssh_echo_ok() {
    local proxycmd=$1 out rc=0 err
    err=$RT_DIR/ssh-$RANDOM.stderr
    out=$(ssh_via "$proxycmd" echo ok 2>"$err") || rc=$?
    if ((rc != 0)); then
        printf '    ssh with ProxyCommand [%s] exited with %d\n' "$proxycmd" "$rc" >&2
        rt_show_file "ssh stderr (the program's stderr included)" "$err"
        rt_show_file "sshd log" "$SSHD_LOG" 10
        return 1
    fi
    rt_expect_eq "remote 'echo ok' output" ok "$out"
}

# Print an ssh command line (one string, for GIT_SSH_COMMAND) that reaches the
# test sshd through ProxyCommand PROXYCMD.
rt_ssh_command_string() {
    local proxycmd=$1 out w
    rt_ssh_options
    out=ssh
    for w in "${RT_SSH_OPTS[@]}" -o "ProxyCommand=$proxycmd"; do
        out+=" $(printf '%q' "$w")"
    done
    printf '%s\n' "$out"
}

# rt_run_program NAME ARGS...: run the program directly with ARGS, stdin from
# /dev/null, bounded by RT_CMD_TIMEOUT. Sets RT_RC, RT_OUT and RT_ERR (files
# holding stdout and stderr).
# shellcheck disable=SC2034 # RT_RC is read by the caller
rt_run_program() {
    local name=$1
    shift
    RT_OUT=$RT_DIR/$name.stdout
    RT_ERR=$RT_DIR/$name.stderr
    RT_RC=0
    timeout "$RT_CMD_TIMEOUT" "$CORKSCREW_BIN" "$@" </dev/null >"$RT_OUT" 2>"$RT_ERR" || RT_RC=$?
}

# --- checks -------------------------------------------------------------------

# Each check prints why it fails and returns non-zero.
rt_expect_eq() {
    local what=$1 expected=$2 got=$3
    [[ $expected == "$got" ]] && return 0
    printf '    %s: expected [%s], got [%s]\n' "$what" "$expected" "$got" >&2
    return 1
}

rt_expect_file_contains() {
    local what=$1 file=$2 text=$3
    grep -qF -- "$text" "$file" && return 0
    printf '    %s: expected [%s] in %s\n' "$what" "$text" "$file" >&2
    return 1
}

rt_expect_file_lacks() {
    local what=$1 file=$2 text=$3
    grep -qF -- "$text" "$file" || return 0
    printf '    %s: [%s] must not appear in %s\n' "$what" "$text" "$file" >&2
    return 1
}

# After rt_run_program: expect exit code CODE and each TEXT in its stderr.
rt_expect_exit() {
    local code=$1 ok=0 text
    shift
    rt_expect_eq "exit code" "$code" "$RT_RC" || ok=1
    for text in "$@"; do
        rt_expect_file_contains "stderr" "$RT_ERR" "$text" || ok=1
    done
    if ((ok == 0)); then
        rt_say "exit $RT_RC, stderr ends: $(tail -n 1 "$RT_ERR")"
    else
        rt_show_file "program stderr" "$RT_ERR"
    fi
    return "$ok"
}

# rt_check DESCRIPTION FUNCTION [ARGS...]: run one check in a subshell with
# errexit on, record PASS/FAIL and go on with the next check.
rt_check() {
    local desc=$1 rc
    shift
    rt_say "CHECK: $desc"
    set +e
    (
        set -e
        "$@"
    )
    rc=$?
    set -e
    if ((rc == 0)); then
        rt_say "PASS: $desc"
    else
        rt_say "FAIL: $desc"
        RT_FAILED+=("$desc")
    fi
}

# End a test script: exit 1 if any check failed.
rt_finish() {
    if ((${#RT_FAILED[@]})); then
        rt_say "${#RT_FAILED[@]} check(s) failed:"
        local f
        for f in "${RT_FAILED[@]}"; do
            rt_say "  - $f"
        done
        exit 1
    fi
    rt_say "all checks passed"
}
