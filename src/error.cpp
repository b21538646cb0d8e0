#include "error.hpp"

namespace corkscrew {

namespace {

class failure_category_impl final : public std::error_category {
public:
    const char* name() const noexcept override { return "corkscrew++"; }

    std::string message(int value) const override {
        switch (static_cast<failure>(value)) {
        case failure::internal:
            return "internal error";
        case failure::usage:
            return "usage error";
        case failure::proxy_unreachable:
            return "cannot resolve or connect to the proxy";
        case failure::proxy_refused:
            return "the proxy refused the CONNECT request";
        case failure::auth_failed:
            return "proxy authentication failed";
        case failure::bad_answer:
            return "malformed proxy answer";
        case failure::timeout:
            return "timed out before the tunnel was up";
        case failure::relay_io:
            return "I/O error after the tunnel was up";
        case failure::compression:
            return "compression layer error";
        }
        return "unknown failure";
    }
};

} // namespace

const std::error_category& failure_category() noexcept {
    static const failure_category_impl category;
    return category;
}

std::error_code make_error_code(failure f) noexcept {
    return {static_cast<int>(f), failure_category()};
}

int exit_status(failure f) noexcept {
    switch (f) {
    case failure::internal:
        return 1;
    case failure::usage:
        return 2;
    case failure::proxy_unreachable:
        return 3;
    case failure::proxy_refused:
        return 4;
    case failure::auth_failed:
        return 5;
    case failure::bad_answer:
        return 6;
    case failure::timeout:
        return 7;
    case failure::relay_io:
        return 8;
    case failure::compression:
        return 9;
    }
    return 1;
}

} // namespace corkscrew
