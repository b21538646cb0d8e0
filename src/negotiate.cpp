#include "negotiate.hpp"

#ifdef CORKSCREW_HAVE_GSSAPI

#include "library.hpp"
#include "platform.hpp"
#include "text.hpp"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>

namespace corkscrew {

namespace {

// Legs of one Negotiate exchange before a further one counts as a failed try. Kerberos needs one
// (two with mutual authentication); anything longer is a proxy going round in circles.
constexpr int max_free_legs = 4;

// SPNEGO (RFC 4178), the mechanism HTTP's Negotiate names (RFC 4559).
gss_OID_desc spnego_oid{6, const_cast<char*>("\x2b\x06\x01\x05\x05\x02")};

// The name type of "HTTP@proxy" (RFC 2743 section 4.1, 1.2.840.113554.1.2.1.4). The library
// exports it as a variable, which would need the library loaded at start.
gss_OID_desc hostbased_service_oid{10,
                                   const_cast<char*>("\x2a\x86\x48\x86\xf7\x12\x01\x02\x01\x04")};

// The GSSAPI functions Negotiate uses, loaded on the first Negotiate challenge (library.hpp).
struct gss_functions {
    decltype(&gss_display_status) display_status = nullptr;
    decltype(&gss_release_buffer) release_buffer = nullptr;
    decltype(&gss_import_name) import_name = nullptr;
    decltype(&gss_release_name) release_name = nullptr;
    decltype(&gss_init_sec_context) init_sec_context = nullptr;
    decltype(&gss_delete_sec_context) delete_sec_context = nullptr;
};

result<gss_functions> load_gss_functions() {
    auto gssapi = library::open(CORKSCREW_LIBGSSAPI);
    if (!gssapi)
        return fail(failure::auth_failed, gssapi.err().message);
    const library& lib = **gssapi;
    gss_functions f;
    if (!lib.bind(f.display_status, "gss_display_status") ||
        !lib.bind(f.release_buffer, "gss_release_buffer") ||
        !lib.bind(f.import_name, "gss_import_name") ||
        !lib.bind(f.release_name, "gss_release_name") ||
        !lib.bind(f.init_sec_context, "gss_init_sec_context") ||
        !lib.bind(f.delete_sec_context, "gss_delete_sec_context"))
        return fail(failure::auth_failed,
                    lib.soname() + " lacks a GSSAPI function Negotiate needs");
    return f;
}

const result<gss_functions>& gss() {
    static const result<gss_functions> loaded = load_gss_functions();
    return loaded;
}

std::string gss_message(const gss_functions& gss, OM_uint32 major, OM_uint32 minor) {
    std::string out;
    for (auto [code, type] :
         {std::pair{major, GSS_C_GSS_CODE}, std::pair{minor, GSS_C_MECH_CODE}}) {
        if (code == 0)
            continue;
        OM_uint32 context = 0, ignored = 0;
        do {
            gss_buffer_desc text{};
            gss.display_status(&ignored, code, type, GSS_C_NO_OID, &context, &text);
            if (text.length) {
                out += (out.empty() ? "" : "; ") +
                       std::string(static_cast<const char*>(text.value), text.length);
            }
            gss.release_buffer(&ignored, &text);
        } while (context != 0);
    }
    return printable(out);
}

class negotiate_auth final : public authenticator {
public:
    explicit negotiate_auth(std::string proxy_host) : service_("HTTP@" + proxy_host) {}

    ~negotiate_auth() override {
        OM_uint32 minor = 0;
        if (context_ != GSS_C_NO_CONTEXT)
            gss_->delete_sec_context(&minor, &context_, GSS_C_NO_BUFFER);
        if (target_ != GSS_C_NO_NAME)
            gss_->release_name(&minor, &target_);
    }

    std::string_view scheme() const override { return "Negotiate"; }

    result<auth_reply> respond(const challenge& own) override {
        const auto& loaded = gss();
        if (!loaded)
            return loaded.err();
        gss_ = &*loaded;
        // A token from the proxy continues the exchange; none means it starts (again).
        bool continuing = !own.token68.empty() && context_ != GSS_C_NO_CONTEXT;
        if (!continuing)
            reset();
        auto token = step(own.token68);
        if (!token)
            return token.err();
        bool counts = !continuing || ++legs_ > max_free_legs;
        return auth_reply{"Negotiate " + base64_encode(*token), counts};
    }

    std::optional<error> confirm(const answer_head& head) override {
        // Mutual authentication: the proxy proves itself with a final token in the 2xx.
        for (const auto& c : parse_challenges(head.values("Proxy-Authenticate")).challenges) {
            if (!c.is("Negotiate") || c.token68.empty())
                continue;
            auto done = step(c.token68);
            if (!done)
                return fail(failure::auth_failed,
                            "the proxy's Negotiate answer did not authenticate it: " +
                                done.err().message);
            return std::nullopt;
        }
        return std::nullopt;
    }

private:
    void reset() {
        OM_uint32 minor = 0;
        if (context_ != GSS_C_NO_CONTEXT)
            gss_->delete_sec_context(&minor, &context_, GSS_C_NO_BUFFER);
        context_ = GSS_C_NO_CONTEXT;
        legs_ = 0;
    }

    // One call of gss_init_sec_context: the proxy's token in, ours out.
    result<std::string> step(const std::string& their_token_base64) {
        // The Kerberos library is about to hold a service ticket and session key in this process.
        keep_secrets_out_of_core_dumps();
        OM_uint32 major = 0, minor = 0;
        if (target_ == GSS_C_NO_NAME) {
            gss_buffer_desc name{service_.size(), service_.data()};
            major = gss_->import_name(&minor, &name, &hostbased_service_oid, &target_);
            if (GSS_ERROR(major))
                return fail(failure::auth_failed, "bad service name " + service_ + ": " +
                                                      gss_message(*gss_, major, minor));
        }
        std::string input;
        if (!their_token_base64.empty()) {
            auto decoded = base64_decode(their_token_base64);
            if (!decoded)
                return fail(failure::auth_failed, "the proxy's Negotiate token is not base64");
            input = std::move(*decoded);
        }
        gss_buffer_desc in{input.size(), input.data()};
        gss_buffer_desc out{};
        major = gss_->init_sec_context(&minor, GSS_C_NO_CREDENTIAL, &context_, target_, &spnego_oid,
                                       GSS_C_MUTUAL_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS,
                                       input.empty() ? GSS_C_NO_BUFFER : &in, nullptr, &out,
                                       nullptr, nullptr);
        std::string token(static_cast<const char*>(out.value), out.length);
        gss_->release_buffer(&minor, &out);
        if (GSS_ERROR(major))
            return fail(failure::auth_failed, "no Kerberos credentials for " + service_ + ": " +
                                                  gss_message(*gss_, major, minor));
        return token;
    }

    std::string service_;
    // Set by the first respond(); everything below is only set after it.
    const gss_functions* gss_ = nullptr;
    gss_name_t target_ = GSS_C_NO_NAME;
    gss_ctx_id_t context_ = GSS_C_NO_CONTEXT;
    int legs_ = 0;
};

} // namespace

bool negotiate_available() {
    return true;
}

std::unique_ptr<authenticator> make_negotiate_auth(const std::string& proxy_host) {
    return std::make_unique<negotiate_auth>(proxy_host);
}

} // namespace corkscrew

#else

namespace corkscrew {

bool negotiate_available() {
    return false;
}

std::unique_ptr<authenticator> make_negotiate_auth(const std::string&) {
    return nullptr;
}

} // namespace corkscrew

#endif
