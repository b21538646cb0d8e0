// Name resolution that a deadline or a signal can abandon at once.
#pragma once

#include "error.hpp"
#include "stream.hpp"

#include <memory>
#include <string>
#include <vector>

namespace corkscrew {

enum class ip_family { any, v4, v6 };

// getaddrinfo cannot be interrupted, and Asio's resolver joins its lookup thread when the program
// ends, so a slow DNS server would hold the process past its deadline. Here a name is looked up in
// a detached thread whose answer is dropped once nobody waits for it; IP literals are converted
// on the spot.
class resolver {
public:
    explicit resolver(const net::any_io_executor& executor) : executor_(executor) {}
    ~resolver() { cancel(); }
    resolver(const resolver&) = delete;
    resolver& operator=(const resolver&) = delete;

    // The addresses of `host` for `port`, in the order the system prefers. An error message
    // names neither host nor purpose: the caller adds them.
    net::awaitable<result<std::vector<net::ip::tcp::endpoint>>>
    resolve(const std::string& host, std::uint16_t port, ip_family family);

    // Ends a pending resolve() at once, with operation_aborted.
    void cancel();

private:
    struct lookup;
    net::any_io_executor executor_;
    std::shared_ptr<lookup> pending_;
};

} // namespace corkscrew
