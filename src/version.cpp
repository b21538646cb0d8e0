#include "version.hpp"

#include "auth.hpp"
#include "compress.hpp"
#include "library.hpp"

#include <boost/version.hpp>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#ifdef CORKSCREW_HAVE_ZSTD
#include <zstd.h>
#endif

#ifndef CORKSCREW_VERSION
#define CORKSCREW_VERSION "unknown"
#endif

namespace corkscrew {

namespace {

std::string compiler() {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "g++ " __VERSION__;
#else
    return "an unknown compiler";
#endif
}

std::string boost_version() {
    return std::to_string(BOOST_VERSION / 100000) + "." +
           std::to_string(BOOST_VERSION / 100 % 1000) + "." + std::to_string(BOOST_VERSION % 100);
}

// One library loaded on demand: whether this machine has it, and the version it reports at run
// time (`version_of`, given the open library) beside the one the build compiled against.
// Opening it here costs --version a few milliseconds, and tells a user whose Digest or --compress
// fails whether the library is missing or older than the build's.
template <class Query>
std::string library_line(const char* soname, const char* used_for, Query version_of,
                         const std::string& built_with) {
    std::string line = std::string("  ") + soname + " (" + used_for + "): ";
    auto lib = library::open(soname);
    if (!lib)
        line += "MISSING (" + lib.err().message + ")";
    else
        line += version_of(**lib);
    if (!built_with.empty())
        line += "; built with " + built_with;
    return line + "\n";
}

std::string found(const library&) {
    return "found";
}

// OpenSSL_version(OPENSSL_VERSION), which libcrypto has had since 1.1.0.
std::string openssl_version(const library& crypto) {
    const char* (*version)(int) = nullptr;
    if (!crypto.bind(version, "OpenSSL_version"))
        return "found, without OpenSSL_version (older than OpenSSL 1.1.0)";
    return version(OPENSSL_VERSION);
}

#ifdef CORKSCREW_HAVE_ZSTD
std::string zstd_version(const library& zstd) {
    const char* (*version)() = nullptr;
    if (!zstd.bind(version, "ZSTD_versionString"))
        return "found, without ZSTD_versionString (older than zstd 1.3.0)";
    return std::string("zstd ") + version();
}
#endif

} // namespace

std::string version_text() {
    std::string auth;
    for (auto scheme : supported_schemes())
        auth += (auth.empty() ? "" : " ") + std::string(scheme);
#ifdef CORKSCREW_HAVE_GSSAPI
    const char* gssapi = "yes";
#else
    const char* gssapi = "no";
#endif
#ifdef CORKSCREW_HAVE_ZSTD
    const char* zstd = "yes";
#else
    const char* zstd = "no";
#endif
    std::string text = std::string("corkscrew++ ") + CORKSCREW_VERSION + "\n" + "build: GSSAPI " +
                       gssapi + ", TLS yes, zstd " + zstd + "; " + compiler() + ", Boost " +
                       boost_version() + "\n" + "auth: " + auth + "\n" + "proxies: http https\n" +
                       "compression: " + compression_description() + "\n" +
                       "libraries, each loaded only by the runs that need it:\n";
    text += library_line(CORKSCREW_LIBSSL, "https:// proxies", found, "");
    text += library_line(CORKSCREW_LIBCRYPTO, "Digest, TLS", openssl_version, OPENSSL_VERSION_TEXT);
#ifdef CORKSCREW_HAVE_GSSAPI
    text += library_line(CORKSCREW_LIBGSSAPI, "Negotiate", found,
                         std::string("krb5-gssapi ") + CORKSCREW_GSSAPI_VERSION);
#endif
#ifdef CORKSCREW_HAVE_ZSTD
    text += library_line(CORKSCREW_LIBZSTD, "--compress", zstd_version,
                         std::string("zstd ") + ZSTD_VERSION_STRING);
#endif
    return text;
}

} // namespace corkscrew
