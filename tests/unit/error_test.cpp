#include "error.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace corkscrew;

TEST_CASE("each failure kind has its own documented exit status") {
    CHECK(exit_status(failure::internal) == 1);
    CHECK(exit_status(failure::usage) == 2);
    CHECK(exit_status(failure::proxy_unreachable) == 3);
    CHECK(exit_status(failure::proxy_refused) == 4);
    CHECK(exit_status(failure::auth_failed) == 5);
    CHECK(exit_status(failure::bad_answer) == 6);
    CHECK(exit_status(failure::timeout) == 7);
    CHECK(exit_status(failure::relay_io) == 8);
    CHECK(exit_status(failure::compression) == 9);
    CHECK(signal_exit_status(1) == 129);
    CHECK(signal_exit_status(15) == 143);
}

TEST_CASE("failures are error codes of their own category") {
    std::error_code ec = failure::auth_failed;
    CHECK(ec.category().name() == std::string("corkscrew++"));
    CHECK(ec.message() == "proxy authentication failed");
    std::set<std::string> messages;
    for (int k = 1; k <= 9; ++k)
        messages.insert(make_error_code(static_cast<failure>(k)).message());
    CHECK(messages.size() == 9);
}
