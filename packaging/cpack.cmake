# Packages: `cpack -G DEB` and `cpack -G RPM` in a build folder (the test package.install builds
# both, runs lintian on the .deb, and installs it). The .deb is for the distribution it was built
# on: its dependencies are the packages that hold the libraries this build found. The .rpm names
# Fedora's packages; build it on the Fedora or RHEL release it is for.

set(CORKSCREW_PACKAGE_MAINTAINER "corkscrew++ developers <corkscrew-plus-plus@example.org>"
    CACHE STRING "The Maintainer (.deb) and Packager (.rpm) of the packages")
# The packaging's own revision, after the upstream version: 0.1.0-1.
set(CORKSCREW_PACKAGE_RELEASE 1)

set(CPACK_PACKAGE_NAME "corkscrew++")
set(CPACK_PACKAGE_VENDOR "The corkscrew++ developers")
set(CPACK_PACKAGE_CONTACT "${CORKSCREW_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "tunnel TCP through HTTP CONNECT proxies, for ssh's ProxyCommand")
file(READ "${CMAKE_CURRENT_LIST_DIR}/description.txt" CPACK_PACKAGE_DESCRIPTION)
string(STRIP "${CPACK_PACKAGE_DESCRIPTION}" CPACK_PACKAGE_DESCRIPTION)
set(CPACK_RESOURCE_FILE_LICENSE "${PROJECT_SOURCE_DIR}/LICENSE")
set(CPACK_GENERATOR "TGZ")
# Only what the program needs at run time: no headers, no test binaries.
set(CPACK_STRIP_FILES ON)
# `cmake --build build --target package_source`: the release tarball the Homebrew formula and the
# PKGBUILD start from.
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_PACKAGE_FILE_NAME "corkscrew++-${PROJECT_VERSION}")
set(CPACK_SOURCE_IGNORE_FILES "/build/" "/\\.git/" "/\\.cache/")

# --- .deb -------------------------------------------------------------------------------------
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${CORKSCREW_PACKAGE_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# CPack puts the summary first, then this.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
# libc from dpkg-shlibdeps; the libraries loaded with dlopen (library.hpp) it cannot see, so they
# are named from the files the build found: libssl (https:// proxies, Digest) and libzstd
# (--compress) are needed, GSSAPI only for Negotiate.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)

# The package that holds `library` on this machine (dpkg -S), or "" when none does.
function(corkscrew_deb_owner out library)
    set(owner "")
    find_program(CORKSCREW_DPKG_QUERY dpkg-query)
    if(CORKSCREW_DPKG_QUERY AND library)
        get_filename_component(real "${library}" REALPATH)
        get_filename_component(name "${real}" NAME)
        # With a merged /usr, dpkg may know the file under /lib rather than /usr/lib.
        execute_process(COMMAND "${CORKSCREW_DPKG_QUERY}" -S "*/${name}"
                        OUTPUT_VARIABLE found ERROR_QUIET RESULT_VARIABLE failed)
        if(NOT failed AND found MATCHES "^([^:, ]+)(:[^:]+)?: ")
            set(owner "${CMAKE_MATCH_1}")
        endif()
    endif()
    set(${out} "${owner}" PARENT_SCOPE)
endfunction()

set(depends "")
corkscrew_deb_owner(ssl_package "${OPENSSL_SSL_LIBRARY}")
list(APPEND depends ${ssl_package})
if(CORKSCREW_ZSTD)
    corkscrew_deb_owner(zstd_package "${ZSTD_LIBRARY}")
    list(APPEND depends ${zstd_package})
endif()
list(JOIN depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
if(CORKSCREW_GSSAPI)
    corkscrew_deb_owner(CPACK_DEBIAN_PACKAGE_RECOMMENDS "${CORKSCREW_GSSAPI_LIBRARY}")
endif()
# ssh for --jump; the program is useful without it (--relay on a gateway, -L).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "openssh-client")

# Debian's policy wants the copyright file and the packaging's changelog in the package's
# documentation folder; they are installed for the .deb only (component "debian").
set(deb_doc "${CMAKE_BINARY_DIR}/packaging/deb")
file(MAKE_DIRECTORY "${deb_doc}")
add_custom_command(OUTPUT "${deb_doc}/changelog.Debian.gz"
                   COMMAND gzip -9nc "${CMAKE_CURRENT_LIST_DIR}/debian/changelog" >
                           "${deb_doc}/changelog.Debian.gz"
                   DEPENDS "${CMAKE_CURRENT_LIST_DIR}/debian/changelog" VERBATIM)
add_custom_target(corkscrew_deb_doc ALL DEPENDS "${deb_doc}/changelog.Debian.gz")
install(FILES "${CMAKE_CURRENT_LIST_DIR}/debian/copyright" "${deb_doc}/changelog.Debian.gz"
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT debian EXCLUDE_FROM_ALL)
# The lintian tags that do not apply to a package made outside Debian's archive, each with why.
install(FILES "${CMAKE_CURRENT_LIST_DIR}/debian/lintian-overrides"
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME ${PROJECT_NAME}
        COMPONENT debian EXCLUDE_FROM_ALL)

file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/debian/changelog" deb_top LIMIT_COUNT 1)
if(NOT deb_top MATCHES "\\(${PROJECT_VERSION}-${CORKSCREW_PACKAGE_RELEASE}\\)")
    message(WARNING "packaging/debian/changelog's first entry is not for "
                    "${PROJECT_VERSION}-${CORKSCREW_PACKAGE_RELEASE}: ${deb_top}")
endif()

# --- .rpm -------------------------------------------------------------------------------------
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE ${CORKSCREW_PACKAGE_RELEASE})
set(CPACK_RPM_PACKAGE_LICENSE "MIT")
set(CPACK_RPM_PACKAGE_GROUP "Applications/Internet")
set(CPACK_RPM_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_RPM_PACKAGE_REQUIRES "openssl-libs")
if(CORKSCREW_ZSTD)
    string(APPEND CPACK_RPM_PACKAGE_REQUIRES ", libzstd")
endif()
set(CPACK_RPM_PACKAGE_SUGGESTS "openssh-clients")
if(CORKSCREW_GSSAPI)
    string(PREPEND CPACK_RPM_PACKAGE_SUGGESTS "krb5-libs, ")
endif()
set(CPACK_RPM_CHANGELOG_FILE "${CMAKE_CURRENT_LIST_DIR}/rpm/changelog")
# The folders the filesystem and bash-completion packages own are not this package's.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/share/man /usr/share/man/man1 /usr/share/bash-completion
    /usr/share/bash-completion/completions /usr/share/zsh /usr/share/zsh/site-functions
    /usr/share/zsh/vendor-completions /usr/share/doc /usr/share/licenses)

# The .deb takes the "debian" component instead of the "license" one (Debian's copyright file
# holds the license).
set(CPACK_PROJECT_CONFIG_FILE "${CMAKE_BINARY_DIR}/packaging/per-generator.cmake")
file(WRITE "${CPACK_PROJECT_CONFIG_FILE}"
     "if(CPACK_GENERATOR STREQUAL \"DEB\")\n"
     "    set(CPACK_INSTALL_CMAKE_PROJECTS \"${CMAKE_BINARY_DIR};${PROJECT_NAME};Unspecified;/;"
     "${CMAKE_BINARY_DIR};${PROJECT_NAME};debian;/\")\n"
     "endif()\n")

include(CPack)
