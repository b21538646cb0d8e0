# shellcheck shell=bash
#
# Helpers for the tests (and tools/demo) that run real servers on loopback:
# squid, tinyproxy, sshd and an MIT Kerberos KDC, each on a free 127.0.0.1
# high port, all files in one temporary folder. Source this file; sourcing it
# creates that folder and installs an EXIT trap that stops every server
# started and removes the folder (set RT_KEEP_TMP=1 to keep the folder for a
# post-mortem).
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
# The caller's proxy settings must not reach the program: each test sets its own.
unset CORKSCREW_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY http_proxy no_proxy NO_PROXY
# More ssh options for every ssh this test runs (e.g. -o ProxyUseFdpass=yes).
RT_SSH_EXTRA_OPTS=()

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

# Commands the EXIT trap runs first (one string each), e.g. to undo a change to the machine.
RT_AT_EXIT=()

rt_cleanup() {
    local rc=$? c
    set +e
    for c in "${RT_AT_EXIT[@]}"; do eval "$c"; done
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

# Set NOW_US to the time in microseconds (EPOCHREALTIME has six decimals).
rt_now_us() { NOW_US=${EPOCHREALTIME//[!0-9]/}; }

# rt_poll SECONDS PID COMMAND...: run COMMAND until it succeeds (return 0), for
# at most SECONDS (whole seconds), or until process PID, which was to bring it
# about, has ended (PID may be empty). Returns 1 when it never succeeded.
rt_poll() {
    local seconds=$1 pid=$2 deadline polls i
    shift 2
    rt_now_us
    deadline=$((NOW_US + seconds * 1000000))
    # Each round sleeps at least one interval: the count never ends the wait
    # before the deadline does, it only bounds the loop.
    polls=$(rt_polls "$seconds")
    for ((i = 0; i < polls; i++)); do
        "$@" && return 0
        if [[ -n $pid ]] && ! rt_alive "$pid"; then
            # One last look: it may have done its part just before ending.
            "$@"
            return
        fi
        rt_now_us
        ((NOW_US < deadline)) || return 1
        sleep "$RT_POLL_INTERVAL"
    done
    return 1
}

# True when none of the PIDS runs (a zombie counts as gone).
rt_none_alive() {
    local pid
    for pid in "$@"; do
        if rt_alive "$pid"; then return 1; fi
    done
}

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

# rt_wait_listening FILE PID DEST [ERR]: wait (bounded) for process PID's first readiness line in
# FILE, "listening on 127.0.0.1:PORT for DEST", and set RT_LISTEN_PORT to PORT; die, showing the
# file ERR (the program's stderr) when given, if it exits first or prints another line.
# shellcheck disable=SC2034 # RT_LISTEN_PORT is read by the caller
rt_wait_listening() {
    local file=$1 pid=$2 dest=$3 err=${4:-} polls i line
    polls=$(rt_polls "$RT_START_TIMEOUT")
    for ((i = 0; i < polls; i++)); do
        if (($(wc -l <"$file") >= 1)); then break; fi
        if ! rt_alive "$pid"; then
            [[ -z $err ]] || rt_show_file "program stderr" "$err"
            rt_die "the program exited before printing its readiness line"
        fi
        sleep "$RT_POLL_INTERVAL"
    done
    line=$(head -n 1 "$file")
    [[ $line =~ ^listening\ on\ 127\.0\.0\.1:([0-9]+)\ for\ ${dest//./\\.}$ ]] || {
        [[ -z $err ]] || rt_show_file "program stderr" "$err"
        rt_die "no readiness line 'listening on 127.0.0.1:PORT for $dest' within ${RT_START_TIMEOUT}s (got [$line])"
    }
    RT_LISTEN_PORT=${BASH_REMATCH[1]}
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
        rt_die "missing required command(s): ${missing[*]} (install: squid tinyproxy openssh-server openssh-client apache2-utils git krb5-kdc krb5-admin-server krb5-user; see tools/packages.txt)"
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

# Write the plain "user:password" lines that squid's digest_file_auth reads:
# rt_digest_file FILE USER PASSWORD [USER PASSWORD]... (FILE is replaced).
# digest_file_auth cuts a password at ':', so none may contain one.
rt_digest_file() {
    local file=$1
    shift
    : >"$file"
    while (($# >= 2)); do
        [[ $2 != *:* ]] || rt_die "rt_digest_file: digest_file_auth cannot read a password with ':' ($1)"
        printf '%s:%s\n' "$1" "$2" >>"$file"
        shift 2
    done
    chmod 644 "$file"
}

# The realm squid announces for Basic and Digest.
RT_SQUID_REALM=corkscrew-test

# Squid's auth helpers, from package squid.
rt_squid_helper() {
    local h=/usr/lib/squid/$1
    [[ -x $h ]] || rt_die "$h not found (package squid)"
    printf '%s\n' "$h"
}

# rt_start_squid [--auth HTPASSWD_FILE] [--digest DIGEST_FILE]
#                [--negotiate KEYTAB] [--deny-port PORT]... [--log-auth]
#                [--log-bytes] [--rate BYTES_PER_SECOND] [--conf LINE]...
# Start squid on a free port allowing CONNECT to any port, except the ports
# given with --deny-port. With any of --auth (Basic, basic_ncsa_auth,
# HTPASSWD_FILE from rt_htpasswd), --digest (Digest, digest_file_auth,
# DIGEST_FILE from rt_digest_file) or --negotiate (Kerberos,
# negotiate_kerberos_auth with the keytab of HTTP/localhost from rt_start_kdc),
# only authenticated users may CONNECT. Several schemes may be given: squid
# then offers each, weakest first (Basic, Digest, Negotiate), so that a client
# taking the first challenge it sees takes the weakest.
# With --log-auth, SQUID_AUTH_LOG gets each request's method, URL, user and
# Proxy-Authorization and X-Test-Token headers as received, to show which
# credentials came.
# With --rate BYTES_PER_SECOND, a delay pool slows what squid sends to its
# clients to that rate, as a slow link would.
# With --log-bytes, SQUID_BYTES_LOG gets each request's method, URL, user and
# the bytes squid received from the client (%>st) and sent to it (%<st), as
# "METHOD URL user=USER from_client=N to_client=N"; for a CONNECT tunnel,
# logged when it closes, these are the tunnelled bytes each way.
# With --conf LINE (repeatable), LINE goes into squid.conf as it is, after the
# settings above and before the access rules (e.g. "max_filedescriptors 8192").
# Sets SQUID_PORT, SQUID_DIR, SQUID_ACCESS_LOG, SQUID_CACHE_LOG, SQUID_PID.
rt_start_squid() {
    local auth_file="" digest_file="" keytab="" deny_ports=() squid env=() log_auth=0 log_bytes=0
    local rate=0 conf_lines=()
    while (($#)); do
        case $1 in
            --conf) conf_lines+=("$2"); shift 2 ;;
            --log-auth) log_auth=1; shift ;;
            --log-bytes) log_bytes=1; shift ;;
            --rate) rate=$2; shift 2 ;;
            --auth) auth_file=$2; shift 2 ;;
            --digest) digest_file=$2; shift 2 ;;
            --negotiate) keytab=$2; shift 2 ;;
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
        if ((log_auth)); then
            SQUID_AUTH_LOG=$SQUID_DIR/auth.log
            echo "logformat authheaders %rm %ru user=%un auth=[%{Proxy-Authorization}>h] token=[%{X-Test-Token}>h]"
            echo "access_log stdio:$SQUID_AUTH_LOG authheaders"
        fi
        if ((log_bytes)); then
            SQUID_BYTES_LOG=$SQUID_DIR/bytes.log
            echo "logformat bytecounts %rm %ru user=%un from_client=%>st to_client=%<st"
            echo "access_log stdio:$SQUID_BYTES_LOG bytecounts"
        fi
        if ((rate > 0)); then
            # One pool for everyone: what squid reads from the servers, so what it sends back to
            # the client, at RATE bytes a second.
            echo "delay_pools 1"
            echo "delay_class 1 1"
            echo "delay_parameters 1 $rate/$rate"
            echo "delay_access 1 allow all"
        fi
        echo "cache_log $SQUID_CACHE_LOG"
        echo "cache_store_log none"
        echo "netdb_filename none"
        echo "logfile_rotate 0"
        echo "pinger_enable off"
        echo "cache deny all"
        echo "cache_mem 8 MB"
        echo "shutdown_lifetime 1 seconds"
        local line
        for line in "${conf_lines[@]}"; do
            printf '%s\n' "$line"
        done
        echo "acl anyport port 1-65535"
        local p
        for p in "${deny_ports[@]}"; do
            echo "acl denied_$p port $p"
            echo "http_access deny CONNECT denied_$p"
        done
        if [[ -n $auth_file ]]; then
            echo "auth_param basic program $(rt_squid_helper basic_ncsa_auth) $auth_file"
            echo "auth_param basic children 3 startup=1 idle=1"
            echo "auth_param basic realm $RT_SQUID_REALM"
        fi
        if [[ -n $digest_file ]]; then
            echo "auth_param digest program $(rt_squid_helper digest_file_auth) $digest_file"
            echo "auth_param digest children 3 startup=1 idle=1"
            echo "auth_param digest realm $RT_SQUID_REALM"
        fi
        if [[ -n $keytab ]]; then
            [[ -n ${KDC_SERVICE:-} ]] || rt_die "rt_start_squid --negotiate: start the KDC first (rt_start_kdc)"
            echo "auth_param negotiate program $(rt_squid_helper negotiate_kerberos_auth) -k $keytab -s $KDC_SERVICE"
            echo "auth_param negotiate children 3 startup=1 idle=1"
            echo "auth_param negotiate keep_alive on"
        fi
        if [[ -n $auth_file$digest_file$keytab ]]; then
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
    if [[ -n $keytab ]]; then
        # The Kerberos helper reads the test realm's krb5.conf and keeps its
        # replay cache in squid's folder (it runs as `proxy`).
        env=(env "KRB5_CONFIG=$KRB5_CONFIG" "KRB5RCACHEDIR=$SQUID_DIR")
    fi
    RT_DEADLINE=$((SECONDS + RT_START_TIMEOUT))
    "${env[@]}" "$squid" -N -d0 -f "$conf" </dev/null >"$out" 2>&1 &
    SQUID_PID=$!
    rt_track "$SQUID_PID" squid
    # squid logs to stderr until it has read cache_log; show both on failure.
    if ! (rt_wait_port "$SQUID_PORT" "$SQUID_PID" squid "$out"); then
        rt_show_file "squid cache.log" "$SQUID_CACHE_LOG"
        exit 1
    fi
}

# Wait (bounded) for squid's access.log line for CONNECT to DEST (host:port),
# optionally with user USER, optionally among the lines after the first SKIP
# (see rt_log_lines); print it. Returns 1 if no such line appears.
rt_wait_squid_connect() {
    local dest=$1 user=${2:-} skip=${3:-0} text polls i line
    text="CONNECT $dest"
    [[ -n $user ]] && text="CONNECT $dest $user "
    polls=$(rt_polls "$RT_LOG_TIMEOUT")
    for ((i = 0; i < polls; i++)); do
        if [[ -f $SQUID_ACCESS_LOG ]]; then
            line=$(tail -n "+$((skip + 1))" "$SQUID_ACCESS_LOG" | grep -F -- "$text" | tail -n 1) || true
            if [[ -n $line ]]; then
                printf '%s\n' "$line"
                return 0
            fi
        fi
        sleep "$RT_POLL_INTERVAL"
    done
    return 1
}

# Number of lines in FILE (0 when missing): a mark to look for new lines after.
rt_log_lines() {
    if [[ -f $1 ]]; then wc -l <"$1"; else echo 0; fi
}

# rt_write_auth_file NAME USER PASSWORD: write "USER:PASSWORD" to a
# credentials file of mode 600 named after NAME; print its path.
rt_write_auth_file() {
    local file=$RT_DIR/$1.auth
    printf '%s:%s\n' "$2" "$3" >"$file"
    chmod 600 "$file"
    printf '%s\n' "$file"
}

# rt_expect_ssh_via_squid LOG PROXYCMD: ssh echo ok through PROXYCMD, then
# the squid whose access.log is LOG must show a new CONNECT to the test sshd
# (it was on the route).
rt_expect_ssh_via_squid() {
    local log=$1 proxycmd=$2 mark
    mark=$(rt_log_lines "$log")
    rt_expect_ssh_echo_ok "$proxycmd"
    SQUID_ACCESS_LOG=$log rt_wait_squid_connect "127.0.0.1:$SSHD_PORT" "" "$mark" >/dev/null || {
        echo "    no new CONNECT 127.0.0.1:$SSHD_PORT in $log" >&2
        rt_show_file "squid access.log" "$log"
        return 1
    }
}

# rt_expect_ssh_as USER PROXYCMD: ssh echo ok through PROXYCMD, then squid's
# access.log must show a new CONNECT to the test sshd for USER.
rt_expect_ssh_as() {
    local user=$1 proxycmd=$2 line mark
    rt_say "ProxyCommand: $proxycmd"
    mark=$(rt_log_lines "$SQUID_ACCESS_LOG")
    rt_expect_ssh_echo_ok "$proxycmd"
    line=$(rt_wait_squid_connect "127.0.0.1:$SSHD_PORT" "$user" "$mark") || {
        echo "    squid's access.log has no new CONNECT 127.0.0.1:$SSHD_PORT for user $user" >&2
        rt_show_file "squid access.log" "$SQUID_ACCESS_LOG"
        return 1
    }
    rt_say "squid logged: $line"
}

# --- Kerberos KDC -------------------------------------------------------------

rt_kdc_bin() {
    local s
    s=$(command -v krb5kdc 2>/dev/null || true)
    [[ -n $s ]] || s=/usr/sbin/krb5kdc
    [[ -x $s ]] || rt_die "krb5kdc not found (install krb5-kdc)"
    printf '%s\n' "$s"
}

# Run kadmin.local with one QUERY on the test realm; show its output on failure.
rt_kadmin() {
    local out
    out=$(kadmin.local -r "$KDC_REALM" -q "$1" 2>&1) || {
        printf '%s\n' "$out" | sed 's/^/    /' >&2
        rt_die "kadmin.local -q '$1' failed"
    }
    # kadmin.local exits 0 even when the query failed; it then says so.
    if grep -qiE '^(add_principal|ktadd|kadmin\.local):|error|while ' <<<"$out"; then
        printf '%s\n' "$out" | sed 's/^/    /' >&2
        rt_die "kadmin.local -q '$1' failed"
    fi
}

# Start an MIT Kerberos KDC for a throwaway realm on a free loopback port, all
# its files (database, stash, krb5.conf, kdc.conf, keytabs, log) in a folder
# of the temp folder; no system Kerberos file is read or written. Creates the
# user principal alice (with a password and a keytab holding its key, for
# kinit) and the service principal HTTP/localhost (random key, keytab readable
# by squid's user `proxy`). Exports KRB5_CONFIG and KRB5_KDC_PROFILE (the test
# realm for every Kerberos client started from here on: kinit, squid's helper,
# the program) and KRB5CCNAME (a ticket cache in the temp folder, empty until
# rt_kinit). Sets KDC_DIR, KDC_PORT, KDC_REALM, KDC_LOG, KDC_PID, KDC_USER,
# KDC_USER_PRINCIPAL, KDC_USER_PASS, KDC_USER_KEYTAB, KDC_SERVICE,
# KDC_HTTP_KEYTAB.
rt_start_kdc() {
    local kdc out
    rt_require_commands kdb5_util kadmin.local kinit klist kdestroy
    kdc=$(rt_kdc_bin)
    rt_subdir kdc
    KDC_DIR=$RT_SUBDIR
    rt_free_port
    KDC_PORT=$RT_PORT
    KDC_REALM=CORKSCREW.TEST
    KDC_LOG=$KDC_DIR/kdc.log
    KDC_USER=alice
    KDC_USER_PRINCIPAL=$KDC_USER@$KDC_REALM
    KDC_USER_PASS="alice-pw-$RANDOM$RANDOM"
    KDC_USER_KEYTAB=$KDC_DIR/alice.keytab
    KDC_SERVICE=HTTP/localhost@$KDC_REALM
    KDC_HTTP_KEYTAB=$KDC_DIR/http.keytab
    out=$KDC_DIR/stderr.log
    # A client looks up the realm of host "localhost" without DNS, and names
    # the service by that name as given (no canonicalization, no reverse DNS).
    cat >"$KDC_DIR/krb5.conf" <<CONF
[libdefaults]
    default_realm = $KDC_REALM
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false

[realms]
    $KDC_REALM = {
        kdc = 127.0.0.1:$KDC_PORT
    }

[domain_realm]
    localhost = $KDC_REALM
CONF
    cat >"$KDC_DIR/kdc.conf" <<CONF
[kdcdefaults]
    kdc_listen = 127.0.0.1:$KDC_PORT
    kdc_tcp_listen = 127.0.0.1:$KDC_PORT

[realms]
    $KDC_REALM = {
        database_name = $KDC_DIR/principal
        key_stash_file = $KDC_DIR/stash
        acl_file = $KDC_DIR/kadm5.acl
        max_life = 1h
    }

[logging]
    kdc = FILE:$KDC_LOG
CONF
    : >"$KDC_DIR/kadm5.acl"
    export KRB5_CONFIG=$KDC_DIR/krb5.conf
    export KRB5_KDC_PROFILE=$KDC_DIR/kdc.conf
    export KRB5CCNAME=FILE:$KDC_DIR/ccache
    kdb5_util create -s -r "$KDC_REALM" -P "master $RANDOM$RANDOM" >"$KDC_DIR/kdb5_util.log" 2>&1 || {
        rt_show_file "kdb5_util create" "$KDC_DIR/kdb5_util.log"
        rt_die "kdb5_util could not create the test realm's database"
    }
    rt_kadmin "addprinc -pw $KDC_USER_PASS $KDC_USER"
    rt_kadmin "addprinc -randkey HTTP/localhost"
    rt_kadmin "ktadd -k $KDC_HTTP_KEYTAB HTTP/localhost"
    rt_kadmin "ktadd -norandkey -k $KDC_USER_KEYTAB $KDC_USER"
    chmod 600 "$KDC_USER_KEYTAB" "$KDC_HTTP_KEYTAB"
    if ((EUID == 0)); then
        # squid's helper runs as `proxy`.
        chown proxy "$KDC_HTTP_KEYTAB" 2>/dev/null || chmod 644 "$KDC_HTTP_KEYTAB"
    fi
    RT_DEADLINE=$((SECONDS + RT_START_TIMEOUT))
    # -n: stay in the foreground, so that the EXIT trap stops this process.
    "$kdc" -n -r "$KDC_REALM" </dev/null >"$out" 2>&1 &
    KDC_PID=$!
    rt_track "$KDC_PID" krb5kdc
    if ! (rt_wait_port "$KDC_PORT" "$KDC_PID" krb5kdc "$out"); then
        rt_show_file "krb5kdc log" "$KDC_LOG"
        exit 1
    fi
}

# Get a ticket for alice into KRB5CCNAME with her keytab (no password asked).
rt_kinit() {
    kinit -k -t "$KDC_USER_KEYTAB" "$KDC_USER_PRINCIPAL" >"$KDC_DIR/kinit.log" 2>&1 || {
        rt_show_file "kinit" "$KDC_DIR/kinit.log"
        rt_show_file "krb5kdc log" "$KDC_LOG"
        rt_die "kinit -k -t $KDC_USER_KEYTAB $KDC_USER_PRINCIPAL failed"
    }
}

# --- TLS (an https:// proxy: stunnel in front of squid) --------------------------

# rt_make_certs: a throwaway CA, a server certificate it signs for the name
# localhost only (no IP address: https://127.0.0.1 must fail the name check),
# a client certificate it signs, and a second CA that signed nothing. Sets
# TLS_CA, TLS_WRONG_CA, TLS_SERVER_CERT, TLS_SERVER_KEY, TLS_CLIENT_CERT and
# TLS_CLIENT_KEY (PEM files in RT_DIR/tls).
rt_make_certs() {
    rt_require_commands openssl
    local d=$RT_DIR/tls log
    mkdir -p "$d"
    log=$d/openssl.log
    {
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=corkscrew test CA" \
            -keyout "$d/ca.key" -out "$d/ca.pem"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=corkscrew wrong CA" \
            -keyout "$d/wrong-ca.key" -out "$d/wrong-ca.pem"
        openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
            -keyout "$d/server.key" -out "$d/server.csr"
        printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/server.ext"
        openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -CAcreateserial -days 2 -extfile "$d/server.ext" -out "$d/server.pem"
        openssl req -newkey rsa:2048 -nodes -subj "/CN=corkscrew test client" \
            -keyout "$d/client.key" -out "$d/client.csr"
        printf 'extendedKeyUsage=clientAuth\n' >"$d/client.ext"
        openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
            -CAcreateserial -days 2 -extfile "$d/client.ext" -out "$d/client.pem"
    } >"$log" 2>&1 || {
        rt_show_file "openssl" "$log"
        rt_die "could not make the test certificates"
    }
    chmod 600 "$d"/*.key
    TLS_CA=$d/ca.pem
    TLS_WRONG_CA=$d/wrong-ca.pem
    TLS_SERVER_CERT=$d/server.pem
    TLS_SERVER_KEY=$d/server.key
    TLS_CLIENT_CERT=$d/client.pem
    TLS_CLIENT_KEY=$d/client.key
}

# rt_start_stunnel BACKEND_PORT [--require-client-cert]: a TLS server on a
# free port of 127.0.0.1 with the certificate of rt_make_certs, passing the
# decrypted stream to 127.0.0.1:BACKEND_PORT (a squid: together an https://
# proxy). With --require-client-cert, only clients with a certificate signed by
# the test CA get through. Sets STUNNEL_PORT, STUNNEL_LOG.
rt_start_stunnel() {
    local backend=$1 require=0 stunnel conf dir
    shift
    while (($#)); do
        case $1 in
            --require-client-cert) require=1; shift ;;
            *) rt_die "rt_start_stunnel: unknown argument $1" ;;
        esac
    done
    stunnel=$(command -v stunnel4 || command -v stunnel) || rt_die "stunnel not found (package stunnel4)"
    [[ -n ${TLS_CA:-} ]] || rt_make_certs
    rt_subdir stunnel
    dir=$RT_SUBDIR
    rt_free_port
    STUNNEL_PORT=$RT_PORT
    STUNNEL_LOG=$dir/stunnel.log
    conf=$dir/stunnel.conf
    {
        echo "foreground = yes"
        echo "pid ="
        echo "debug = notice"
        echo "[proxy]"
        echo "accept = 127.0.0.1:$STUNNEL_PORT"
        echo "connect = 127.0.0.1:$backend"
        echo "cert = $TLS_SERVER_CERT"
        echo "key = $TLS_SERVER_KEY"
        if ((require)); then
            echo "CAfile = $TLS_CA"
            echo "verifyChain = yes"
            echo "requireCert = yes"
        fi
    } >"$conf"
    RT_DEADLINE=$((SECONDS + RT_START_TIMEOUT))
    "$stunnel" "$conf" </dev/null >"$STUNNEL_LOG" 2>&1 &
    local pid=$!
    rt_track "$pid" stunnel
    if ! (rt_wait_port "$STUNNEL_PORT" "$pid" stunnel "$STUNNEL_LOG"); then
        exit 1
    fi
}

# --- tinyproxy ----------------------------------------------------------------

# rt_start_tinyproxy [--connect-port PORT]... [--basic-auth USER PASSWORD]
# Start tinyproxy on a free port; with --connect-port, CONNECT is allowed to
# those ports only (tinyproxy's ConnectPort), else to every port; with
# --basic-auth, only USER with PASSWORD (Basic) may use it.
# Sets TINYPROXY_PORT, TINYPROXY_DIR, TINYPROXY_LOG, TINYPROXY_PID.
rt_start_tinyproxy() {
    local connect_ports=() tinyproxy p basic=()
    while (($#)); do
        case $1 in
            --connect-port) connect_ports+=("$2"); shift 2 ;;
            --basic-auth) basic=("$2" "$3"); shift 3 ;;
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
        if ((${#basic[@]})); then
            echo "BasicAuth ${basic[0]} ${basic[1]}"
        fi
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
        # scp speaks SFTP (OpenSSH 9.0 and later).
        -o "Subsystem=sftp internal-sftp"
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

# --- the tests' own destination ----------------------------------------------

# Start the tests' echo server (CORKSCREW_ECHO_SERVER, from tests/support/echo_server.cpp), a
# plaintext destination; wait (bounded) for the port it prints once it listens. Sets ECHO_PORT.
rt_start_echo_server() {
    local out=$RT_DIR/echo_server.stdout err=$RT_DIR/echo_server.stderr pid polls i
    : >"$out"
    "$CORKSCREW_ECHO_SERVER" </dev/null >>"$out" 2>"$err" &
    pid=$!
    rt_track "$pid" echo_server
    polls=$(rt_polls "$RT_START_TIMEOUT")
    for ((i = 0; i < polls; i++)); do
        # A whole line: the port and its newline.
        if [[ $(wc -l <"$out") -ge 1 ]]; then
            ECHO_PORT=$(head -n 1 "$out")
            [[ $ECHO_PORT =~ ^[0-9]+$ ]] || rt_die "the echo server printed [$ECHO_PORT], not a port"
            return 0
        fi
        if ! rt_alive "$pid"; then
            rt_show_file "echo server stderr" "$err"
            rt_die "the echo server exited before printing its port"
        fi
        sleep "$RT_POLL_INTERVAL"
    done
    rt_die "the echo server printed no port within ${RT_START_TIMEOUT}s"
}

# --- running the program and ssh ----------------------------------------------

# Quote one word for the shell that ssh starts for a ProxyCommand, and double
# each '%' so that ssh does not take it for one of its %-escapes.
rt_proxy_word() {
    local q
    printf -v q '%q' "$1"
    printf '%s' "${q//%/%%}"
}

# Two sshds: a gateway, and an inner host behind it (both on loopback here).
# Sets GW_PORT and GW_KEY (the client key the gateway accepts), INNER_PORT;
# SSHD_PORT and SSH_CLIENT_KEY stay those of the inner host, which the ssh
# helpers below reach.
rt_start_gateway_and_inner() {
    rt_start_sshd
    GW_PORT=$SSHD_PORT
    GW_KEY=$SSH_CLIENT_KEY
    rt_start_sshd
    INNER_PORT=$SSHD_PORT
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
        "${RT_SSH_EXTRA_OPTS[@]}"
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
# /dev/null (or from the file RT_STDIN names, when set), bounded by
# RT_CMD_TIMEOUT. Sets RT_RC, RT_OUT and RT_ERR (files holding stdout and
# stderr). The program runs in a session of its own, without a controlling
# terminal: asked for credentials it has none of, it cannot prompt on the
# terminal of whoever runs the tests and wait there.
# shellcheck disable=SC2034 # RT_RC is read by the caller
rt_run_program() {
    local name=$1 detach=()
    shift
    RT_OUT=$RT_DIR/$name.stdout
    RT_ERR=$RT_DIR/$name.stderr
    RT_RC=0
    if command -v setsid >/dev/null 2>&1; then detach=(setsid -w); fi
    timeout "$RT_CMD_TIMEOUT" "${detach[@]}" "$CORKSCREW_BIN" "$@" <"${RT_STDIN:-/dev/null}" >"$RT_OUT" 2>"$RT_ERR" || RT_RC=$?
}

# --- bulk transfers -----------------------------------------------------------

# rt_make_data SIZE_MIB: write SIZE_MIB MiB of random bytes to RT_DATA; set
# RT_DATA_MIB and RT_DATA_SUM (their SHA-256).
rt_make_data() {
    rt_require_commands sha256sum
    RT_DATA_MIB=$1
    RT_DATA=$RT_DIR/random.bin
    head -c "$((RT_DATA_MIB * 1024 * 1024))" /dev/urandom >"$RT_DATA"
    RT_DATA_SUM=$(sha256sum <"$RT_DATA" | cut -d' ' -f1)
}

rt_transfer_failed() {
    echo "    ssh with ProxyCommand [$1] failed" >&2
    rt_show_file "ssh stderr (the program's stderr included)" "$2"
}

# rt_transfer_upload PROXYCMD: RT_DATA to the remote sha256sum over ssh
# through PROXYCMD; the SHA-256 must match.
rt_transfer_upload() {
    local proxycmd=$1 got err=$RT_DIR/upload-$BASHPID.stderr
    got=$(ssh_via "$proxycmd" sha256sum <"$RT_DATA" 2>"$err" | cut -d" " -f1) || {
        rt_transfer_failed "$proxycmd" "$err"
        return 1
    }
    rt_expect_eq "SHA-256 computed by the remote side" "$RT_DATA_SUM" "$got"
}

# rt_transfer_upload_to_file PROXYCMD: RT_DATA to a remote file, compared
# byte for byte.
rt_transfer_upload_to_file() {
    local proxycmd=$1 copy=$RT_DIR/uploaded-$BASHPID.bin q err=$RT_DIR/upload-file-$BASHPID.stderr
    printf -v q "%q" "$copy"
    ssh_via "$proxycmd" "cat > $q" <"$RT_DATA" 2>"$err" || {
        rt_transfer_failed "$proxycmd" "$err"
        return 1
    }
    rt_expect_eq "size of the uploaded copy" "$(stat -c %s "$RT_DATA")" "$(stat -c %s "$copy")"
    cmp -s "$RT_DATA" "$copy" || {
        echo "    the uploaded copy differs from the original" >&2
        return 1
    }
    rm -f -- "$copy"
}

# rt_transfer_download PROXYCMD: RT_DATA from the remote cat over ssh through
# PROXYCMD; the SHA-256 must match.
rt_transfer_download() {
    local proxycmd=$1 got q err=$RT_DIR/download-$BASHPID.stderr
    printf -v q "%q" "$RT_DATA"
    got=$(ssh_via "$proxycmd" "cat $q" </dev/null 2>"$err" | sha256sum | cut -d" " -f1) || {
        rt_transfer_failed "$proxycmd" "$err"
        return 1
    }
    rt_expect_eq "SHA-256 of the downloaded bytes" "$RT_DATA_SUM" "$got"
}

# rt_check_transfers PROXYCMD [WHAT]: after rt_make_data, one rt_check each
# for the upload to sha256sum, the upload to a file and the download, over ssh
# through PROXYCMD (WHAT, e.g. " through Digest squid", ends each title).
rt_check_transfers() {
    local proxycmd=$1 what=${2:-}
    rt_check "upload $RT_DATA_MIB MiB$what, remote sha256sum" rt_transfer_upload "$proxycmd"
    rt_check "upload $RT_DATA_MIB MiB to a remote file$what, compare" rt_transfer_upload_to_file "$proxycmd"
    rt_check "download $RT_DATA_MIB MiB$what, local sha256sum" rt_transfer_download "$proxycmd"
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
