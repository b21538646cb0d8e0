#!/usr/bin/env bash
# The README's cookbook, run as written. Each recipe below is a copy of a block of README.md (a
# check fails when the README no longer holds it word for word), run by bash with only the names
# replaced: proxy.corp:3128 by a squid on loopback, the host names by an sshd and a git daemon
# on loopback (through an ssh_config given with -F, which the recipes' ssh, scp and rsync get),
# remote paths by folders of the test, and the listen recipe's psql and redis-cli by the tests'
# echo client and ssh. corkscrew++ is found on PATH, as in the recipes.
#   ssh with `Host *` + `ProxyCommand corkscrew++ %h %p`, the proxy from https_proxy
#   git clone over ssh with GIT_SSH_COMMAND
#   git clone over git:// with core.gitProxy (a two-line script), and with GIT_PROXY_COMMAND
#   scp of a file, rsync -e ssh of a folder
#   CI: ssh with the proxy from the environment; -L in the background, its line awaited, killed
#   CORKSCREW_PROXY with CORKSCREW_AUTH, and with ~/.netrc (squid with Basic auth)
# Every check compares content (SHA-256 of files and trees, commit ids) with what was set up, and
# finds its CONNECT in squid's log.
set -euo pipefail
RT_NAME=cookbook
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
rt_require_commands git scp rsync sha256sum setsid
[[ -n ${CORKSCREW_ECHO_SERVER:-} && -x ${CORKSCREW_ECHO_SERVER:-} ]] ||
    rt_die "CORKSCREW_ECHO_SERVER is not set to an executable (the echo server built from tests/support/echo_server.cpp)"
[[ -n ${CORKSCREW_ECHO_CLIENT:-} && -x ${CORKSCREW_ECHO_CLIENT:-} ]] ||
    rt_die "CORKSCREW_ECHO_CLIENT is not set to an executable (the load client built from tests/support/echo_client.cpp)"
# The recipes run in folders of their own: absolute paths.
CORKSCREW_ECHO_SERVER=$(readlink -f "$CORKSCREW_ECHO_SERVER")
CORKSCREW_ECHO_CLIENT=$(readlink -f "$CORKSCREW_ECHO_CLIENT")
README=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/README.md
[[ -f $README ]] || rt_die "$README not found"
unset CORKSCREW_AUTH GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_SSH GIT_SSH_COMMAND GIT_PROXY_COMMAND \
    GIT_CONFIG_GLOBAL SSH_ASKPASS
# The recipes use ~ (git's global configuration, ~/bin, ~/.netrc): a home of the test's own. ssh
# reads no file of it (its configuration comes with -F).
export HOME=$RT_DIR/home GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
# corkscrew++ on PATH, as the recipes call it.
mkdir -p "$RT_DIR/bin"
ln -s "$(readlink -f "$CORKSCREW_BIN")" "$RT_DIR/bin/corkscrew++"
export PATH=$RT_DIR/bin:$PATH

# --- the recipes, as README.md has them -----------------------------------------------------------

RECIPE_NAMES=()
# recipe NAME <<'EOF' ... EOF: the text (without its last newline) becomes RECIPE_NAME.
recipe() {
    local text=""
    IFS= read -r -d '' text || true
    printf -v "RECIPE_$1" '%s' "${text%$'\n'}"
    RECIPE_NAMES+=("$1")
}

recipe SSH_CONFIG <<'EOF'
Host build.example.com
    User deploy

Host *
    ProxyCommand corkscrew++ %h %p
EOF
recipe PROFILE <<'EOF'
export https_proxy=http://proxy.corp:3128
export no_proxy=localhost,.corp,10.0.0.0/8
EOF
recipe GIT_SSH <<'EOF'
GIT_SSH_COMMAND='ssh -o ProxyCommand="corkscrew++ -x http://proxy.corp:3128 %h %p"' \
    git clone git@git.example.com:team/app.git
EOF
recipe GIT_PROXY_SCRIPT <<'EOF'
#!/bin/sh
exec corkscrew++ -x http://proxy.corp:3128 "$1" "$2"
EOF
recipe GIT_PROXY_CONFIG <<'EOF'
chmod +x ~/bin/git-proxy
git config --global core.gitProxy ~/bin/git-proxy
git config --global protocol.version 1
git clone git://git.example.com/project.git
EOF
recipe GIT_PROXY_COMMAND <<'EOF'
GIT_PROXY_COMMAND=~/bin/git-proxy git -c protocol.version=1 clone git://git.example.com/project.git
EOF
recipe SCP <<'EOF'
scp -o ProxyCommand="corkscrew++ -x http://proxy.corp:3128 %h %p" build.tar.gz build.example.com:/tmp/
EOF
recipe RSYNC <<'EOF'
rsync -a -e 'ssh -o ProxyCommand="corkscrew++ -x http://proxy.corp:3128 %h %p"' site/ build.example.com:/srv/site/
EOF
recipe CI_SSH <<'EOF'
export https_proxy=http://proxy.corp:3128 no_proxy=localhost,.corp
ssh -o ProxyCommand='corkscrew++ %h %p' deploy@build.example.com ./deploy.sh
EOF
recipe CI_LISTEN <<'EOF'
export https_proxy=http://proxy.corp:3128 no_proxy=localhost,.corp
corkscrew++ -L 5432:db.internal:5432 -L 6379:cache.internal:6379 > listening.txt &
tunnel=$!
until grep -qs '^listening on' listening.txt; do   # printed once every -L listens
    kill -0 "$tunnel" || exit 1                    # it gave up; its stderr says why
    sleep 0.1
done
psql -h 127.0.0.1 -p 5432 ...
redis-cli -p 6379 ...
kill "$tunnel"; wait "$tunnel"   # stops accepting; open tunnels get --shutdown-grace (10 s); exit 0
EOF
recipe ENV_ONLY <<'EOF'
export CORKSCREW_PROXY=http://proxy.corp:3128   # or a chain: http://proxy.corp:3128,https://egress.example
export CORKSCREW_AUTH=alice:s3cret              # for the nearest proxy
EOF
recipe NETRC <<'EOF'
machine proxy.corp login alice password s3cret
EOF
# The ProxyCommand of the environment-only recipe, from its prose.
ENV_ONLY_PROXYCOMMAND='corkscrew++ %h %p'

# --- servers and content --------------------------------------------------------------------------

rt_start_sshd
rt_start_squid
PLAIN_PORT=$SQUID_PORT
PLAIN_LOG=$SQUID_ACCESS_LOG
# The environment-only recipe's credentials, as written.
rt_htpasswd "$RT_DIR/squid.htpasswd" alice s3cret
rt_start_squid --auth "$RT_DIR/squid.htpasswd"
AUTH_PORT=$SQUID_PORT
AUTH_LOG=$SQUID_ACCESS_LOG
SQUID_ACCESS_LOG=$PLAIN_LOG
rt_start_echo_server

# The test's ssh settings: the recipes' host names lead to the sshd; its key, no known_hosts, no
# questions. The recipes' ssh, scp and rsync get this file with -F.
SSH_CONF=$RT_DIR/ssh_config
cat >"$SSH_CONF" <<CONF
Host build.example.com git.example.com
    HostName 127.0.0.1
    Port $SSHD_PORT

Host *
    BatchMode yes
    StrictHostKeyChecking no
    UserKnownHostsFile /dev/null
    LogLevel ERROR
    IdentitiesOnly yes
    IdentityAgent none
    IdentityFile $SSH_CLIENT_KEY
    ConnectTimeout 30
CONF

# One commit, in a bare repository for ssh (team/app.git) and one for git daemon (project.git).
SOURCE=$RT_DIR/source
git init -q "$SOURCE"
printf 'cookbook %s\n' "$RANDOM$RANDOM$RANDOM" >"$SOURCE/README"
head -c 300000 /dev/urandom >"$SOURCE/blob.bin"
git -C "$SOURCE" add README blob.bin
git -C "$SOURCE" -c user.name=corkscrew-test -c user.email=test@example.invalid commit -q -m cookbook
COMMIT=$(git -C "$SOURCE" rev-parse HEAD)
mkdir -p "$RT_DIR/team" "$RT_DIR/gitd"
git clone -q --bare "$SOURCE" "$RT_DIR/team/app.git"
git clone -q --bare "$SOURCE" "$RT_DIR/gitd/project.git"

# git daemon for git://, on a free port; the EXIT trap stops it.
rt_free_port
GIT_PORT=$RT_PORT
GIT_DAEMON_LOG=$RT_DIR/git-daemon.log
RT_DEADLINE=$((SECONDS + RT_START_TIMEOUT))
git daemon --reuseaddr --base-path="$RT_DIR/gitd" --export-all --listen=127.0.0.1 \
    --port="$GIT_PORT" "$RT_DIR/gitd" </dev/null >"$GIT_DAEMON_LOG" 2>&1 &
GIT_DAEMON_PID=$!
rt_track "$GIT_DAEMON_PID" "git daemon"
if ! (rt_wait_port "$GIT_PORT" "$GIT_DAEMON_PID" "git daemon" "$GIT_DAEMON_LOG"); then
    exit 1
fi

# Data for ssh, scp and rsync.
rt_make_data 2
# A folder for rsync: text, binary, empty and nested files, a name with a space.
SITE=$RT_DIR/site-source
mkdir -p "$SITE/css" "$SITE/img/deep"
printf '<h1>%s</h1>\n' "$RANDOM" >"$SITE/index.html"
printf 'body { color: #%06x; }\n' "$RANDOM" >"$SITE/css/style.css"
head -c 700000 /dev/urandom >"$SITE/img/deep/photo.bin"
: >"$SITE/empty"
printf 'spaces\n' >"$SITE/a name.txt"

# --- helpers --------------------------------------------------------------------------------------

# subst TEXT FROM TO [FROM TO]...: print TEXT with every FROM replaced by TO; each FROM must occur
# (a recipe that changed shape would otherwise run unreplaced).
subst() {
    local text=$1
    shift
    while (($# >= 2)); do
        [[ $text == *"$1"* ]] || { echo "    the recipe has no [$1] to replace" >&2; return 1; }
        text=${text//"$1"/"$2"}
        shift 2
    done
    printf '%s\n' "$text"
}

# The SHA-256 of every file of a folder, by relative path: a tree's fingerprint.
tree_sum() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1; }

# run_recipe NAME DIR SCRIPT: run SCRIPT with bash in DIR (created), stdin from RT_STDIN or
# /dev/null, stdout and stderr in files; it must exit 0 within RT_CMD_TIMEOUT. Sets RUN_OUT.
run_recipe() {
    local name=$1 dir=$2 script=$3 rc=0
    mkdir -p "$dir"
    RUN_OUT=$RT_DIR/$name.stdout
    printf '%s\n' "$script" >"$RT_DIR/$name.sh"
    rt_say "running the recipe (with the test's names): $RT_DIR/$name.sh"
    (cd "$dir" && timeout "$RT_CMD_TIMEOUT" bash "$RT_DIR/$name.sh") <"${RT_STDIN:-/dev/null}" \
        >"$RUN_OUT" 2>"$RT_DIR/$name.stderr" || rc=$?
    if ((rc != 0)); then
        echo "    the recipe exited with $rc:" >&2
        sed 's/^/        /' "$RT_DIR/$name.sh" >&2
        rt_show_file "its stderr (ssh's, git's and corkscrew++'s)" "$RT_DIR/$name.stderr"
        return 1
    fi
}

# expect_connect LOG DEST MARK [USER]: the squid whose access.log is LOG logged a CONNECT to DEST
# (for USER) after its first MARK lines: the recipe went through the proxy.
expect_connect() {
    local log=$1 dest=$2 mark=$3 user=${4:-} line
    line=$(SQUID_ACCESS_LOG=$log rt_wait_squid_connect "$dest" "$user" "$mark") || {
        echo "    squid logged no CONNECT $dest${user:+ for $user}: the recipe did not go through the proxy" >&2
        rt_show_file "squid access.log" "$log" 10
        return 1
    }
    rt_say "squid logged: $line"
}

# --- checks ---------------------------------------------------------------------------------------

check_readme_has_recipes() {
    local readme name var bad=0
    readme=$(<"$README")
    for name in "${RECIPE_NAMES[@]}"; do
        var=RECIPE_$name
        if [[ $readme != *"${!var}"* ]]; then
            printf '    README.md no longer holds recipe %s as this test runs it:\n' "$name" >&2
            printf '%s\n' "${!var}" | sed 's/^/        /' >&2
            bad=1
        fi
    done
    ((bad == 0)) || echo "    change tests/real/cookbook.sh along with README.md's cookbook" >&2
    return "$bad"
}

# ssh: `Host *` with `ProxyCommand corkscrew++ %h %p`, a User for one host, the proxy from
# https_proxy (~/.profile's lines); 2 MiB to the remote sha256sum.
check_ssh_host_star() {
    local conf=$RT_DIR/ssh_config-host-star profile mark got
    { subst "$RECIPE_SSH_CONFIG" "User deploy" "User $RT_USER"; echo; cat "$SSH_CONF"; } >"$conf"
    profile=$(subst "$RECIPE_PROFILE" proxy.corp:3128 "127.0.0.1:$PLAIN_PORT")
    mark=$(rt_log_lines "$PLAIN_LOG")
    RT_STDIN=$RT_DATA run_recipe ssh-host-star "$RT_DIR/w-ssh" "$profile
ssh -F $conf build.example.com sha256sum"
    got=$(cut -d' ' -f1 <"$RUN_OUT")
    rt_expect_eq "SHA-256 computed by the remote side" "$RT_DATA_SUM" "$got"
    expect_connect "$PLAIN_LOG" "127.0.0.1:$SSHD_PORT" "$mark"
}

# git clone over ssh, GIT_SSH_COMMAND carrying the ProxyCommand.
check_git_over_ssh() {
    local script mark
    script=$(subst "$RECIPE_GIT_SSH" proxy.corp:3128 "127.0.0.1:$PLAIN_PORT" \
        "ssh -o" "ssh -F $SSH_CONF -o" \
        "git@git.example.com:team/" "$RT_USER@git.example.com:$RT_DIR/team/")
    mark=$(rt_log_lines "$PLAIN_LOG")
    run_recipe git-ssh "$RT_DIR/w-git-ssh" "$script"
    rt_expect_eq "commit of the clone over ssh" "$COMMIT" "$(git -C "$RT_DIR/w-git-ssh/app" rev-parse HEAD)"
    rt_expect_eq "tree of the clone over ssh" "$(git -C "$SOURCE" rev-parse 'HEAD^{tree}')" \
        "$(git -C "$RT_DIR/w-git-ssh/app" write-tree)"
    expect_connect "$PLAIN_LOG" "127.0.0.1:$SSHD_PORT" "$mark"
}

# git:// through ~/bin/git-proxy, named by core.gitProxy in ~/.gitconfig.
check_git_proxy_config() {
    local script mark
    mkdir -p "$HOME/bin"
    subst "$RECIPE_GIT_PROXY_SCRIPT" proxy.corp:3128 "127.0.0.1:$PLAIN_PORT" >"$HOME/bin/git-proxy"
    script=$(subst "$RECIPE_GIT_PROXY_CONFIG" git.example.com "127.0.0.1:$GIT_PORT")
    mark=$(rt_log_lines "$PLAIN_LOG")
    run_recipe git-proxy "$RT_DIR/w-git-proxy" "$script"
    rt_expect_eq "core.gitProxy in ~/.gitconfig" "$HOME/bin/git-proxy" "$(git config --global core.gitProxy)"
    rt_expect_eq "commit of the git:// clone" "$COMMIT" "$(git -C "$RT_DIR/w-git-proxy/project" rev-parse HEAD)"
    rt_expect_eq "blob.bin of the git:// clone" "$(sha256sum <"$SOURCE/blob.bin")" \
        "$(sha256sum <"$RT_DIR/w-git-proxy/project/blob.bin")"
    expect_connect "$PLAIN_LOG" "127.0.0.1:$GIT_PORT" "$mark"
}

# git:// with GIT_PROXY_COMMAND alone: a home with the script and no git configuration.
check_git_proxy_command() {
    local script mark
    export HOME=$RT_DIR/home-env
    mkdir -p "$HOME/bin"
    subst "$RECIPE_GIT_PROXY_SCRIPT" proxy.corp:3128 "127.0.0.1:$PLAIN_PORT" >"$HOME/bin/git-proxy"
    chmod +x "$HOME/bin/git-proxy"
    script=$(subst "$RECIPE_GIT_PROXY_COMMAND" git.example.com "127.0.0.1:$GIT_PORT")
    mark=$(rt_log_lines "$PLAIN_LOG")
    run_recipe git-proxy-command "$RT_DIR/w-git-proxy-command" "$script"
    rt_expect_eq "commit of the git:// clone" "$COMMIT" "$(git -C "$RT_DIR/w-git-proxy-command/project" rev-parse HEAD)"
    expect_connect "$PLAIN_LOG" "127.0.0.1:$GIT_PORT" "$mark"
}

check_scp() {
    local script mark dest=$RT_DIR/scp-dest
    mkdir -p "$dest" "$RT_DIR/w-scp"
    cp "$RT_DATA" "$RT_DIR/w-scp/build.tar.gz"
    script=$(subst "$RECIPE_SCP" proxy.corp:3128 "127.0.0.1:$PLAIN_PORT" "scp -o" "scp -F $SSH_CONF -o" \
        "build.example.com:/tmp/" "build.example.com:$dest/")
    mark=$(rt_log_lines "$PLAIN_LOG")
    run_recipe scp "$RT_DIR/w-scp" "$script"
    [[ -f $dest/build.tar.gz ]] || { echo "    scp left no $dest/build.tar.gz" >&2; return 1; }
    rt_expect_eq "SHA-256 of the copy" "$RT_DATA_SUM" "$(sha256sum <"$dest/build.tar.gz" | cut -d' ' -f1)"
    expect_connect "$PLAIN_LOG" "127.0.0.1:$SSHD_PORT" "$mark"
}

check_rsync() {
    local script mark dest=$RT_DIR/rsync-dest
    mkdir -p "$dest" "$RT_DIR/w-rsync"
    cp -a "$SITE" "$RT_DIR/w-rsync/site"
    script=$(subst "$RECIPE_RSYNC" proxy.corp:3128 "127.0.0.1:$PLAIN_PORT" "ssh -o" "ssh -F $SSH_CONF -o" \
        "build.example.com:/srv/site/" "build.example.com:$dest/site/")
    mark=$(rt_log_lines "$PLAIN_LOG")
    run_recipe rsync "$RT_DIR/w-rsync" "$script"
    [[ -d $dest/site ]] || { echo "    rsync left no $dest/site" >&2; return 1; }
    rt_expect_eq "SHA-256 of every file of the copied tree" "$(tree_sum "$SITE")" "$(tree_sum "$dest/site")"
    rt_expect_eq "files in the copied tree" "$(find "$SITE" | wc -l)" "$(find "$dest/site" | wc -l)"
    expect_connect "$PLAIN_LOG" "127.0.0.1:$SSHD_PORT" "$mark"
}

# CI: the proxy from the job's environment, ProxyCommand corkscrew++ %h %p on the command line.
check_ci_ssh() {
    local script mark
    script=$(subst "$RECIPE_CI_SSH" proxy.corp:3128 "127.0.0.1:$PLAIN_PORT" "ssh -o" "ssh -F $SSH_CONF -o" \
        "deploy@" "$RT_USER@" "./deploy.sh" "sha256sum")
    mark=$(rt_log_lines "$PLAIN_LOG")
    RT_STDIN=$RT_DATA run_recipe ci-ssh "$RT_DIR/w-ci-ssh" "$script"
    rt_expect_eq "SHA-256 computed by the remote side" "$RT_DATA_SUM" "$(cut -d' ' -f1 <"$RUN_OUT")"
    expect_connect "$PLAIN_LOG" "127.0.0.1:$SSHD_PORT" "$mark"
}

# CI: -L in the background, the line awaited, the echo client and an ssh upload through the two
# listeners, then kill and wait, whose status (the program's) must be 0. The recipe runs in a
# session of its own, so that whatever it leaves behind is found and stopped.
check_ci_listen() {
    local script mark dir=$RT_DIR/w-ci-listen p1 p2 pid rc=0 q_client q_data
    rt_free_port
    p1=$RT_PORT
    rt_free_port
    p2=$RT_PORT
    printf -v q_client '%q' "$CORKSCREW_ECHO_CLIENT"
    printf -v q_data '%q' "$RT_DATA"
    script=$(subst "$RECIPE_CI_LISTEN" proxy.corp:3128 "127.0.0.1:$PLAIN_PORT" \
        "-L 5432:db.internal:5432 -L 6379:cache.internal:6379" \
        "-L $p1:127.0.0.1:$ECHO_PORT -L $p2:127.0.0.1:$SSHD_PORT" \
        "psql -h 127.0.0.1 -p 5432 ..." \
        "$q_client --timeout 30 --port $p1 --connections 8 --bytes 1048576 >echo.out 2>&1 || echo \"echo client: exit \$?\" >>failures.txt" \
        "redis-cli -p 6379 ..." \
        "ssh -F $SSH_CONF -p $p2 127.0.0.1 sha256sum <$q_data >ssh.out 2>ssh.err || echo \"ssh: exit \$?\" >>failures.txt")
    mkdir -p "$dir"
    printf '%s\n' "$script" >"$RT_DIR/ci-listen.sh"
    rt_say "running the recipe (with the test's names): $RT_DIR/ci-listen.sh"
    mark=$(rt_log_lines "$PLAIN_LOG")
    (cd "$dir" && exec setsid -w bash "$RT_DIR/ci-listen.sh") </dev/null >"$RT_DIR/ci-listen.stdout" 2>"$RT_DIR/ci-listen.stderr" &
    pid=$!
    if ! rt_poll 60 "" rt_none_alive "$pid"; then
        echo "    the recipe still runs after 60 s; stopping its session" >&2
        kill -TERM -- "-$pid" 2>/dev/null || true
    fi
    wait "$pid" || rc=$?
    # Nothing of the recipe may run on (the session's id is the recipe's pid).
    if pgrep -s "$pid" >/dev/null; then
        echo "    left running by the recipe: $(pgrep -s "$pid" -a)" >&2
        kill -TERM -- "-$pid" 2>/dev/null || true
        return 1
    fi
    if ((rc != 0)) || [[ -s $dir/failures.txt ]]; then
        echo "    the recipe failed: exit status $rc (that of 'wait', the program's), failures.txt: $(tr '\n' ' ' 2>/dev/null <"$dir/failures.txt")" >&2
        sed 's/^/        /' "$RT_DIR/ci-listen.sh" >&2
        [[ ! -s $dir/failures.txt ]] || rt_show_file "failures" "$dir/failures.txt"
        rt_show_file "echo client" "$dir/echo.out"
        rt_show_file "ssh stderr" "$dir/ssh.err"
        rt_show_file "its stderr (corkscrew++'s)" "$RT_DIR/ci-listen.stderr"
        return 1
    fi
    rt_expect_file_contains "listening.txt" "$dir/listening.txt" "listening on 127.0.0.1:$p1 for 127.0.0.1:$ECHO_PORT"
    rt_expect_file_contains "listening.txt" "$dir/listening.txt" "listening on 127.0.0.1:$p2 for 127.0.0.1:$SSHD_PORT"
    rt_say "echo client: $(tail -n 1 "$dir/echo.out")"
    rt_expect_eq "SHA-256 computed by the remote side through the listener" "$RT_DATA_SUM" "$(cut -d' ' -f1 <"$dir/ssh.out")"
    expect_connect "$PLAIN_LOG" "127.0.0.1:$ECHO_PORT" "$mark"
    expect_connect "$PLAIN_LOG" "127.0.0.1:$SSHD_PORT" "$mark"
}

# Environment only: CORKSCREW_PROXY and CORKSCREW_AUTH, to the squid that wants alice's password.
check_env_only_auth() {
    local env mark
    env=$(subst "$RECIPE_ENV_ONLY" proxy.corp:3128 "127.0.0.1:$AUTH_PORT")
    mark=$(rt_log_lines "$AUTH_LOG")
    RT_STDIN=$RT_DATA run_recipe env-only "$RT_DIR/w-env-only" "$env
ssh -F $SSH_CONF -o ProxyCommand='$ENV_ONLY_PROXYCOMMAND' build.example.com sha256sum"
    rt_expect_eq "SHA-256 computed by the remote side" "$RT_DATA_SUM" "$(cut -d' ' -f1 <"$RUN_OUT")"
    expect_connect "$AUTH_LOG" "127.0.0.1:$SSHD_PORT" "$mark" alice
}

# Environment only, the password in ~/.netrc: CORKSCREW_PROXY's line alone.
check_env_only_netrc() {
    local env mark
    export HOME=$RT_DIR/home-netrc
    mkdir -p "$HOME"
    subst "$RECIPE_NETRC" "machine proxy.corp" "machine 127.0.0.1" >"$HOME/.netrc"
    chmod 600 "$HOME/.netrc"
    env=$(subst "$RECIPE_ENV_ONLY" proxy.corp:3128 "127.0.0.1:$AUTH_PORT" | grep -v '^export CORKSCREW_AUTH=')
    mark=$(rt_log_lines "$AUTH_LOG")
    RT_STDIN=$RT_DATA run_recipe env-only-netrc "$RT_DIR/w-env-only-netrc" "$env
ssh -F $SSH_CONF -o ProxyCommand='$ENV_ONLY_PROXYCOMMAND' build.example.com sha256sum"
    rt_expect_eq "SHA-256 computed by the remote side" "$RT_DATA_SUM" "$(cut -d' ' -f1 <"$RUN_OUT")"
    expect_connect "$AUTH_LOG" "127.0.0.1:$SSHD_PORT" "$mark" alice
}

rt_check "README.md holds every recipe this test runs, word for word" check_readme_has_recipes
rt_check "ssh: Host * + ProxyCommand corkscrew++ %h %p, https_proxy from ~/.profile, User per host" check_ssh_host_star
rt_check "git clone over ssh with GIT_SSH_COMMAND" check_git_over_ssh
rt_check "git clone git:// with core.gitProxy = ~/bin/git-proxy" check_git_proxy_config
rt_check "git clone git:// with GIT_PROXY_COMMAND" check_git_proxy_command
rt_check "scp of a file" check_scp
rt_check "rsync -e 'ssh -o ProxyCommand=...' of a folder" check_rsync
rt_check "CI: ssh with the proxy from the environment" check_ci_ssh
rt_check "CI: corkscrew++ -L in the background, line awaited, used, killed: exit 0" check_ci_listen
rt_check "environment only: CORKSCREW_PROXY + CORKSCREW_AUTH, squid with Basic auth" check_env_only_auth
rt_check "environment only: CORKSCREW_PROXY + ~/.netrc, squid with Basic auth" check_env_only_netrc
rt_finish
