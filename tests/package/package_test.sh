#!/usr/bin/env bash
# The packages: builds the .deb and the .rpm from the build folder with CPack, checks what each
# holds and depends on, runs lintian on the .deb (no error, no warning), then installs the .deb
# into this machine with dpkg -i, runs the installed corkscrew++ (--version, the man page, the
# bash completion) and ssh through a real squid with it, and purges the package again.
#   package_test.sh BUILD_DIR VERSION
# Installing changes the machine, so it happens only as root and only when CI=true or
# CORKSCREW_TEST_INSTALL=1; otherwise that part is skipped (exit 77, which ctest shows as skipped).
set -euo pipefail
RT_NAME=package
# shellcheck source-path=SCRIPTDIR/../real source=../real/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../real/lib.sh"

BUILD_DIR=${1:?usage: package_test.sh BUILD_DIR VERSION}
VERSION=${2:?usage: package_test.sh BUILD_DIR VERSION}
rt_require_commands cpack dpkg-deb lintian rpm rpmbuild
PKG_DIR=$RT_DIR/packages
INSTALLED=/usr/bin/corkscrew++

build_packages() {
    cpack --config "$BUILD_DIR/CPackConfig.cmake" -G "DEB;RPM" -B "$PKG_DIR" >"$RT_DIR/cpack.log" 2>&1 || {
        rt_show_file "cpack output" "$RT_DIR/cpack.log" 40
        return 1
    }
    DEB=$(find "$PKG_DIR" -maxdepth 1 -name 'corkscrew++_*.deb')
    RPM=$(find "$PKG_DIR" -maxdepth 1 -name 'corkscrew++-*.rpm')
    [[ -f $DEB && -f $RPM ]] || {
        echo "    expected one .deb and one .rpm in $PKG_DIR, found: $(ls "$PKG_DIR")" >&2
        return 1
    }
    rt_say "built $(basename "$DEB") and $(basename "$RPM")"
}

# expect_listed LISTING PATH...: each PATH is a line of LISTING.
expect_listed() {
    local listing=$1 path
    shift
    for path in "$@"; do
        grep -qxF -- "$path" <<<"$listing" || {
            echo "    $path is not in the package; it holds:" >&2
            printf '%s\n' "$listing" | sed 's/^/      /' >&2
            return 1
        }
    done
}

check_deb_contents() {
    local files depends
    files=$(dpkg-deb --fsys-tarfile "$DEB" | tar -t | sed 's|^\./|/|; s|/$||')
    expect_listed "$files" /usr/bin/corkscrew++ /usr/share/man/man1/corkscrew++.1.gz \
        /usr/share/bash-completion/completions/corkscrew++ \
        /usr/share/zsh/vendor-completions/_corkscrew++ /usr/share/doc/corkscrew++/copyright \
        /usr/share/doc/corkscrew++/changelog.Debian.gz /usr/share/doc/corkscrew++/changelog.gz
    rt_expect_eq "the .deb's version" "$VERSION-1" "$(dpkg-deb -f "$DEB" Version)"
    depends=$(dpkg-deb -f "$DEB" Depends)
    rt_say "Depends: $depends; Recommends: $(dpkg-deb -f "$DEB" Recommends)"
    # libc from dpkg-shlibdeps, and the package of the libssl that is loaded with dlopen.
    local ssl_package
    ssl_package=$(dpkg-query -S "$(readlink -f /usr/lib/*/libssl.so)" | cut -d: -f1 | head -n1)
    [[ $depends == *libc6* && $depends == *"$ssl_package"* ]] || {
        echo "    Depends should name libc6 and $ssl_package: $depends" >&2
        return 1
    }
}

check_lintian() {
    local out=$RT_DIR/lintian.log rc=0
    lintian --fail-on error,warning --display-info "$DEB" >"$out" 2>&1 || rc=$?
    rt_show_file "lintian --display-info" "$out"
    ((rc == 0)) || {
        echo "    lintian found errors or warnings (exit $rc)" >&2
        return 1
    }
    # Informational tags are shown above; errors and warnings fail the check.
    if grep -q '^[EW]: ' "$out"; then return 1; fi
}

check_rpm() {
    local files requires
    files=$(rpm -qlp "$RPM" 2>/dev/null)
    expect_listed "$files" /usr/bin/corkscrew++ /usr/share/man/man1/corkscrew++.1.gz \
        /usr/share/bash-completion/completions/corkscrew++ \
        /usr/share/licenses/corkscrew++/LICENSE /usr/share/doc/corkscrew++/changelog.gz
    # Debian's copyright file is the .deb's alone.
    if grep -q 'changelog.Debian' <<<"$files"; then
        echo "    the .rpm holds the .deb's changelog.Debian.gz" >&2
        return 1
    fi
    rt_expect_eq "the .rpm's version" "$VERSION-1" "$(rpm -qp --qf '%{VERSION}-%{RELEASE}' "$RPM" 2>/dev/null)"
    rt_expect_eq "the .rpm's license" MIT "$(rpm -qp --qf '%{LICENSE}' "$RPM" 2>/dev/null)"
    requires=$(rpm -qp --requires "$RPM" 2>/dev/null)
    rt_say "Requires: $(tr '\n' ' ' <<<"$requires")"
    grep -qx 'openssl-libs' <<<"$requires" || {
        echo "    the .rpm does not require openssl-libs" >&2
        return 1
    }
    rpm -qp --changelog "$RPM" 2>/dev/null | grep -q "$VERSION-1" || {
        echo "    the .rpm's changelog has no entry for $VERSION-1" >&2
        return 1
    }
}

install_deb() {
    if dpkg-query -W -f='${Status}' corkscrew++ 2>/dev/null | grep -q 'install ok installed'; then
        rt_say "a corkscrew++ package is installed already ($(dpkg-query -W -f='${Version}' corkscrew++)); replacing it"
    fi
    dpkg -i "$DEB" >"$RT_DIR/dpkg.log" 2>&1 || {
        rt_show_file "dpkg -i" "$RT_DIR/dpkg.log"
        return 1
    }
    rt_say "installed $(dpkg-query -W -f='${Package} ${Version}' corkscrew++)"
}

check_installed_copy() {
    local out
    out=$("$INSTALLED" --version)
    rt_expect_eq "--version's first line" "corkscrew++ $VERSION" "$(head -n1 <<<"$out")"
    if grep -q MISSING <<<"$out"; then
        echo "    a library the package depends on is missing:" >&2
        printf '%s\n' "$out" >&2
        return 1
    fi
    rt_expect_eq "man -w corkscrew++" /usr/share/man/man1/corkscrew++.1.gz "$(man -w corkscrew++)"
    # The completion bash-completion would load for the command.
    bash -c 'source /usr/share/bash-completion/completions/corkscrew++ && complete -p corkscrew++' \
        >/dev/null || {
        echo "    the installed bash completion does not register itself for corkscrew++" >&2
        return 1
    }
}

check_tunnel() {
    CORKSCREW_BIN=$INSTALLED
    rt_expect_ssh_echo_ok "$(rt_proxycmd -x "http://127.0.0.1:$SQUID_PORT" %h %p)"
    local line
    line=$(rt_wait_squid_connect "127.0.0.1:$SSHD_PORT") || {
        rt_show_file "squid access.log" "$SQUID_ACCESS_LOG"
        return 1
    }
    [[ $line == *TCP_TUNNEL/200* ]] || {
        echo "    expected TCP_TUNNEL/200 in: $line" >&2
        return 1
    }
}

rt_check "cpack builds a .deb and an .rpm" build_packages
[[ -n ${DEB:-} ]] || DEB=$(find "$PKG_DIR" -maxdepth 1 -name 'corkscrew++_*.deb' 2>/dev/null)
[[ -n ${RPM:-} ]] || RPM=$(find "$PKG_DIR" -maxdepth 1 -name 'corkscrew++-*.rpm' 2>/dev/null)
[[ -f $DEB && -f $RPM ]] || rt_finish
rt_check "the .deb holds the program, man page, completions and Debian's docs" check_deb_contents
rt_check "lintian: no error and no warning on the .deb" check_lintian
rt_check "the .rpm holds the program, man page, completion and license, and requires openssl-libs" check_rpm

if ((EUID != 0)) || [[ ${CI:-} != true && ${CORKSCREW_TEST_INSTALL:-} != 1 ]]; then
    rt_finish
    rt_say "SKIPPED: installing the .deb (needs root, and CI=true or CORKSCREW_TEST_INSTALL=1)"
    exit 77
fi
# Set here, not in the check: each check runs in a subshell of its own.
RT_AT_EXIT+=("dpkg --purge corkscrew++ >/dev/null 2>&1")
rt_check "dpkg -i installs the .deb" install_deb
rt_check "the installed copy: --version, man page, bash completion" check_installed_copy
unset CORKSCREW_AUTH
rt_start_sshd
# shellcheck disable=SC2119 # no options: plain squid
rt_start_squid
rt_check "ssh through squid with the installed /usr/bin/corkscrew++" check_tunnel
rt_finish
