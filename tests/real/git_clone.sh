#!/usr/bin/env bash
# git clone over ssh through squid: GIT_SSH_COMMAND carries the ProxyCommand.
set -euo pipefail
RT_NAME=git_clone
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
rt_require_commands git
unset CORKSCREW_AUTH GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
# Neither the user's nor the system's git configuration takes part.
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
rt_start_sshd
# shellcheck disable=SC2119 # no options: plain squid
rt_start_squid

REPO=$RT_DIR/origin.git
CONTENT="corkscrew++ git clone test $RANDOM$RANDOM"

make_origin() {
    local work=$RT_DIR/work
    git init -q --bare "$REPO"
    git init -q "$work"
    printf '%s\n' "$CONTENT" >"$work/hello.txt"
    git -C "$work" add hello.txt
    git -C "$work" -c user.name=corkscrew-test -c user.email=test@example.invalid \
        commit -q -m "test commit"
    git -C "$work" push -q "$REPO" HEAD:refs/heads/main
    git -C "$REPO" symbolic-ref HEAD refs/heads/main
}

check_clone() {
    local clone=$RT_DIR/clone got
    GIT_SSH_COMMAND=$(rt_ssh_command_string "$(rt_proxycmd 127.0.0.1 "$SQUID_PORT" %h %p)")
    export GIT_SSH_COMMAND
    rt_say "GIT_SSH_COMMAND=$GIT_SSH_COMMAND"
    timeout "$RT_CMD_TIMEOUT" git clone -q "$RT_USER@127.0.0.1:$REPO" "$clone" </dev/null 2>"$RT_DIR/clone.stderr" || {
        echo "    git clone failed" >&2
        rt_show_file "git clone stderr (ssh's and the program's included)" "$RT_DIR/clone.stderr"
        return 1
    }
    got=$(cat "$clone/hello.txt")
    rt_expect_eq "hello.txt in the clone" "$CONTENT" "$got"
    rt_wait_squid_connect "127.0.0.1:$SSHD_PORT" >/dev/null || {
        echo "    squid's access.log has no CONNECT to 127.0.0.1:$SSHD_PORT: the clone did not go through squid" >&2
        return 1
    }
}

make_origin
rt_check "git clone over ssh through squid" check_clone
rt_finish
