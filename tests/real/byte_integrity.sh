#!/usr/bin/env bash
# 64 MiB of random bytes up and down through squid over ssh: SHA-256 must
# match both ways.
set -euo pipefail
RT_NAME=byte_integrity
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
rt_require_commands sha256sum
unset CORKSCREW_AUTH
rt_start_sshd
# shellcheck disable=SC2119 # no options: plain squid
rt_start_squid

# Large enough to cross many proxy and ssh buffers and windows.
SIZE_MIB=64
DATA=$RT_DIR/random.bin
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom >"$DATA"
SUM=$(sha256sum <"$DATA" | cut -d' ' -f1)
PROXYCMD=$(rt_proxycmd 127.0.0.1 "$SQUID_PORT" %h %p)

ssh_failed() {
    echo "    ssh with ProxyCommand [$PROXYCMD] failed" >&2
    rt_show_file "ssh stderr (the program's stderr included)" "$1"
}

check_upload() {
    local got err=$RT_DIR/upload.stderr
    got=$(ssh_via "$PROXYCMD" sha256sum <"$DATA" 2>"$err" | cut -d" " -f1) || {
        ssh_failed "$err"
        return 1
    }
    rt_expect_eq "SHA-256 computed by the remote side" "$SUM" "$got"
}

check_upload_to_file() {
    local copy=$RT_DIR/uploaded.bin q err=$RT_DIR/upload-file.stderr
    printf -v q "%q" "$copy"
    ssh_via "$PROXYCMD" "cat > $q" <"$DATA" 2>"$err" || {
        ssh_failed "$err"
        return 1
    }
    rt_expect_eq "size of the uploaded copy" "$(stat -c %s "$DATA")" "$(stat -c %s "$copy")"
    cmp -s "$DATA" "$copy" || {
        echo "    the uploaded copy differs from the original" >&2
        return 1
    }
}

check_download() {
    local got q err=$RT_DIR/download.stderr
    printf -v q "%q" "$DATA"
    got=$(ssh_via "$PROXYCMD" "cat $q" </dev/null 2>"$err" | sha256sum | cut -d" " -f1) || {
        ssh_failed "$err"
        return 1
    }
    rt_expect_eq "SHA-256 of the downloaded bytes" "$SUM" "$got"
}

rt_check "upload $SIZE_MIB MiB, remote sha256sum" check_upload
rt_check "upload $SIZE_MIB MiB to a remote file, compare" check_upload_to_file
rt_check "download $SIZE_MIB MiB, local sha256sum" check_download
rt_finish
