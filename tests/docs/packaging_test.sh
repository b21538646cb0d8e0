#!/usr/bin/env bash
# The packaging that is not built here: the Homebrew formula and the Arch PKGBUILD parse
# (ruby -c, bash -n), and every packaging file names the project's version (CMake's), so that a
# release cannot ship one of them stale.
#   packaging_test.sh SOURCE_DIR VERSION
set -euo pipefail
SRC=${1:?usage: packaging_test.sh SOURCE_DIR VERSION}
VERSION=${2:?usage: packaging_test.sh SOURCE_DIR VERSION}
failed=0
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    failed=1
}

formula=$SRC/packaging/homebrew/corkscrew++.rb
pkgbuild=$SRC/packaging/arch/PKGBUILD

if ! command -v ruby >/dev/null; then
    fail "ruby is not installed (install the ruby package) to check the Homebrew formula's syntax"
elif out=$(ruby -c "$formula" 2>&1); then
    pass "ruby -c $formula: $out"
else
    fail "ruby -c $formula: $out"
fi
# Homebrew's name for the class of formula corkscrew++ (a "+" becomes an "x").
if grep -q '^class Corkscrewxx < Formula$' "$formula"; then
    pass "the formula's class is Corkscrewxx"
else
    fail "the formula's class is not Corkscrewxx, Homebrew's class name for corkscrew++"
fi

if out=$(bash -n "$pkgbuild" 2>&1); then
    pass "bash -n $pkgbuild"
else
    fail "bash -n $pkgbuild: $out"
fi
# The PKGBUILD's fields, read by bash as makepkg reads them.
# shellcheck disable=SC1090
fields=$(bash -c 'source "$1"; printf "%s\n" "$pkgname" "$pkgver" "${license[*]}" "$(declare -F build check package | tr "\n" " ")"' _ "$pkgbuild")
expected=$(printf '%s\n' "corkscrew++" "$VERSION" "MIT" "build check package ")
if [[ $fields == "$expected" ]]; then
    pass "the PKGBUILD: pkgname corkscrew++, pkgver $VERSION, license MIT, build/check/package"
else
    fail "the PKGBUILD's fields: got [$fields], want [$expected]"
fi

# expect_version FILE PATTERN: FILE has a line matching the extended regular expression PATTERN.
expect_version() {
    if grep -Eq -- "$2" "$SRC/$1"; then
        pass "$1 names version $VERSION"
    else
        fail "$1 does not name version $VERSION (looked for /$2/)"
    fi
}
v=${VERSION//./\\.}
expect_version packaging/homebrew/corkscrew++.rb "^  url \".*/corkscrew\+\+-$v\.tar\.gz\"$"
expect_version packaging/debian/changelog "^corkscrew\+\+ \($v-[0-9]+\) "
expect_version packaging/rpm/changelog "^\* .* - $v-[0-9]+$"
expect_version CHANGELOG.md "^## $v "
exit "$failed"
