#include "probe.hpp"

#include <doctest/doctest.h>

using namespace corkscrew;

namespace {

config to(std::string host, std::uint16_t port) {
    config c;
    c.path.destination = {std::move(host), port};
    return c;
}

probe_facts failed_with(int status, std::string error) {
    probe_facts f;
    f.destination = "dest:22";
    f.exit_status = status;
    f.error = std::move(error);
    return f;
}

} // namespace

TEST_CASE("probe hints follow the failure and the route") {
    auto refused = failed_with(4, "proxy p:3128 refused CONNECT to dest:22: 403 Forbidden");
    CHECK(probe_hint(to("dest", 22), refused).find("port 443") != std::string::npos);
    // Already on 443: the 443 advice would be no help.
    CHECK(probe_hint(to("dest", 443), refused).find("port 443") == std::string::npos);
    auto down = failed_with(4, "proxy p:3128 refused CONNECT to dest:22: 503 Service Unavailable");
    CHECK(probe_hint(to("dest", 22), down).find("could not reach dest:22") != std::string::npos);
    // The scheme the proxy offered, not the ones this program speaks.
    auto digest = failed_with(5, "proxy p:3128 requires authentication for CONNECT to dest:22 "
                                 "(offers Digest realm=\"r\"; it speaks Negotiate, Digest, "
                                 "Basic): Digest: no credentials: no user name");
    CHECK(probe_hint(to("dest", 22), digest).find("wants Digest") != std::string::npos);
    auto kerberos = failed_with(5, "proxy p:3128 requires authentication for CONNECT to dest:22 "
                                   "(offers Negotiate; it speaks Digest, Basic): Negotiate: no "
                                   "credentials: no ticket");
    CHECK(probe_hint(to("dest", 22), kerberos).find("kinit") != std::string::npos);
    CHECK(probe_hint(to("dest", 22), failed_with(3, "cannot connect")).find("host and port") !=
          std::string::npos);
    probe_facts silent;
    CHECK(probe_hint(to("dest", 5432), silent).find("client speaks first") != std::string::npos);
    probe_facts spoke;
    spoke.first_bytes = "SSH-2.0-x\r\n";
    CHECK(probe_hint(to("dest", 22), spoke).empty());
}

TEST_CASE("the JSON report escapes what the network sent") {
    probe_facts f;
    f.destination = "dest:22";
    f.steps = {{1.5, "proxy answered: \"quoted\" \\ back"}};
    f.tunnel_up = true;
    f.first_bytes = std::string("SSH-2.0-x\r\n\x01\xff", 13);
    auto json = render_probe_json(to("dest", 22), f);
    CHECK(json.find(R"("text":"proxy answered: \"quoted\" \\ back")") != std::string::npos);
    CHECK(json.find(R"("first_bytes":"SSH-2.0-x\r\n\u0001\u00ff")") != std::string::npos);
    CHECK(json.find(R"("verdict":"ok")") != std::string::npos);
    CHECK(json.find(R"("error":null)") != std::string::npos);
    // No raw control byte survives.
    for (char c : json)
        CHECK((static_cast<unsigned char>(c) >= 0x20 || c == '\n'));
}
