#include "listen.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace corkscrew;

TEST_CASE("-L values: a port, an address and a port, each with or without a destination") {
    auto port = parse_listen_spec("5432");
    REQUIRE(port);
    CHECK_FALSE(port->at.unix_socket);
    CHECK(port->at.host == "127.0.0.1"); // loopback unless an address is named
    CHECK(port->at.port == 5432);
    CHECK_FALSE(port->destination);

    auto any = parse_listen_spec("0");
    REQUIRE(any);
    CHECK(any->at.port == 0); // the kernel chooses

    auto own = parse_listen_spec("5432:db.internal:5433");
    REQUIRE(own);
    CHECK(own->at.port == 5432);
    REQUIRE(own->destination);
    CHECK(own->destination->host == "db.internal");
    CHECK(own->destination->port == 5433);

    auto full = parse_listen_spec("[::1]:6379:[fd00::7]:6380");
    REQUIRE(full);
    CHECK(full->at.host == "::1");
    CHECK(full->at.port == 6379);
    REQUIRE(full->destination);
    CHECK(full->destination->host == "fd00::7");
    CHECK(full->destination->port == 6380);

    auto everywhere = parse_listen_spec("0.0.0.0:8080");
    REQUIRE(everywhere);
    CHECK(everywhere->at.host == "0.0.0.0");
    CHECK_FALSE(is_loopback(everywhere->at));
    auto named = parse_listen_spec("localhost:8080");
    REQUIRE(named);
    CHECK(named->at.host == "127.0.0.1");
    CHECK(is_loopback(named->at));
    auto other_loopback = parse_listen_spec("127.0.0.2:8080");
    REQUIRE(other_loopback);
    CHECK(is_loopback(other_loopback->at));
}

TEST_CASE("-L values: Unix sockets") {
    auto plain = parse_listen_spec("unix:/run/user/1000/db.sock");
    REQUIRE(plain);
    CHECK(plain->at.unix_socket);
    CHECK(plain->at.path == "/run/user/1000/db.sock");
    CHECK_FALSE(plain->destination);
    CHECK(is_loopback(plain->at));

    auto own = parse_listen_spec("unix:/tmp/a:b/db.sock:db:5432");
    REQUIRE(own);
    CHECK(own->at.path == "/tmp/a:b/db.sock");
    REQUIRE(own->destination);
    CHECK(own->destination->host == "db");
    CHECK(own->destination->port == 5432);
}

TEST_CASE("-L values that are refused") {
    const std::vector<std::string> bad = {
        "",                              // no port
        "65536",                         // too large
        "-1",                            // not a number
        "x:80",                          // not an address
        "db.example:80",                 // a name other than localhost
        "1:2:3:4:5",                     // too many fields
        "80:host",                       // a destination without its port
        "80:host:0",                     // port 0 is no destination
        "80:ho st:22",                   // a destination host with a blank
        "unix:",                         // no path
        "unix:/tmp/x:y",                 // two fields: ambiguous
        "unix:" + std::string(200, 'a'), // longer than a socket address holds
    };
    for (const auto& text : bad) {
        auto r = parse_listen_spec(text);
        CHECK_MESSAGE(!r, text);
        if (!r)
            CHECK(r.err().kind == failure::usage);
    }
}
