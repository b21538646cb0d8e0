// Negotiate (RFC 4559: SPNEGO, in practice Kerberos) through the system's GSSAPI.
#pragma once

#include "auth.hpp"

#include <memory>
#include <string>

namespace corkscrew {

// Whether this build has GSSAPI (CMake option CORKSCREW_GSSAPI).
bool negotiate_available();

// A Negotiate authenticator for the service HTTP@proxy_host, using the user's Kerberos
// credentials (their ticket cache). Its first reply fails when there is no usable ticket.
std::unique_ptr<authenticator> make_negotiate_auth(const std::string& proxy_host);

} // namespace corkscrew
