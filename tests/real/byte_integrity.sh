#!/usr/bin/env bash
# 64 MiB of random bytes up and down through squid over ssh: SHA-256 must
# match both ways.
set -euo pipefail
RT_NAME=byte_integrity
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rt_require_program
unset CORKSCREW_AUTH
rt_start_sshd
# shellcheck disable=SC2119 # no options: plain squid
rt_start_squid

# Large enough to cross many proxy and ssh buffers and windows.
rt_make_data 64
rt_check_transfers "$(rt_proxycmd 127.0.0.1 "$SQUID_PORT" %h %p)"
rt_finish
