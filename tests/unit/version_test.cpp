#include "version.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

using namespace corkscrew;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// The line that starts with `start` (after any indentation), or "" when none does.
std::string line_starting(const std::vector<std::string>& lines, const std::string& start) {
    for (const auto& line : lines)
        if (line.find_first_not_of(' ') != std::string::npos &&
            line.compare(line.find_first_not_of(' '), start.size(), start) == 0)
            return line;
    return "";
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("--version: version, build options, and each on-demand library found with its version") {
    const auto text = version_text();
    const auto lines = lines_of(text);
    INFO(text);
    REQUIRE(!lines.empty());
    CHECK(lines[0] == std::string("corkscrew++ ") + CORKSCREW_VERSION);

    const auto build = line_starting(lines, "build: ");
#ifdef CORKSCREW_HAVE_GSSAPI
    CHECK(has(build, "GSSAPI yes"));
    CHECK(has(line_starting(lines, "libgssapi"), "(Negotiate): found; built with krb5-gssapi 1."));
#else
    CHECK(has(build, "GSSAPI no"));
    CHECK(line_starting(lines, "libgssapi").empty());
#endif
#ifdef CORKSCREW_HAVE_ZSTD
    CHECK(has(build, "zstd yes"));
    // The run-time version is the library's own answer, beside the headers' one.
    const auto zstd = line_starting(lines, "libzstd");
    CHECK(has(zstd, "(--compress): zstd 1."));
    CHECK(has(zstd, "; built with zstd 1."));
#else
    CHECK(has(build, "zstd no"));
    CHECK(line_starting(lines, "libzstd").empty());
#endif
    CHECK(has(build, "TLS yes"));
    CHECK(has(build, "Boost 1."));
    CHECK(has(line_starting(lines, "libssl"), "(https:// proxies): found"));
    const auto crypto = line_starting(lines, "libcrypto");
    CHECK(has(crypto, "(Digest, TLS): OpenSSL "));
    CHECK(has(crypto, "; built with OpenSSL "));
    // The tests run where the libraries are installed.
    CHECK_FALSE(has(text, "MISSING"));
}
