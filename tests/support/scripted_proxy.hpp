// A scripted HTTP CONNECT proxy on 127.0.0.1: each accepted connection runs a handler that
// reads request heads, answers with scripted bytes in scripted segments, then plays the
// destination (echo, send, sink, close, half-close, reset). Everything it saw is recorded.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace corkscrew_test {

// What the proxy saw on one connection.
struct connection_record {
    std::vector<std::string> requests; // each request head, blank line included
    std::string received;              // bytes from the client outside request heads
    bool saw_eof = false;              // the client shut down its sending side
    std::string error;                 // the handler's failure, if any
};

// One write to the socket, optionally after a pause that makes it a separate TCP segment.
struct segment {
    std::string bytes;
    std::chrono::milliseconds pause_before{0};
};

// A gap long enough for the previous write to leave as its own segment (TCP_NODELAY is set).
inline constexpr std::chrono::milliseconds segment_gap{20};

// Split text into one-byte segments separated by a gap.
std::vector<segment> dribble(std::string_view text,
                             std::chrono::milliseconds gap = std::chrono::milliseconds(10));

// What the destination does once the scripted bytes have been sent.
enum class then_do {
    close,      // close at once
    sink,       // read until the client's EOF, then close
    echo,       // send back everything until the client's EOF, then close
    half_close, // shutdown(SHUT_WR), read until the client's EOF, then close
    reset,      // close with SO_LINGER 0 (RST)
    // Wait until the client has acknowledged every byte sent, then reset: the bytes reach the
    // client before the RST, which would otherwise throw away those still queued here.
    reset_delivered,
};

struct script {
    std::vector<segment> segments; // the proxy's answer and the destination's first bytes
    then_do then = then_do::sink;
};

class proxy_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The handler's view of one accepted connection. Every wait is bounded; failures throw
// proxy_error, which the proxy records in connection_record::error.
class proxy_connection {
public:
    proxy_connection(int fd, std::size_t index, std::mutex& mutex, connection_record& record,
                     int stop_fd);
    ~proxy_connection();
    proxy_connection(const proxy_connection&) = delete;
    proxy_connection& operator=(const proxy_connection&) = delete;

    std::size_t index() const { return index_; }

    // Read one request head, up to and including the blank line; nullopt on a clean EOF.
    std::optional<std::string> read_request();
    // Read client bytes up to and including `delimiter`, recorded as received; throws on EOF.
    std::string read_until(std::string_view delimiter);
    void send(std::string_view bytes);
    void send_segments(const std::vector<segment>& segments);
    void echo();
    void sink();
    void shutdown_write();
    // Wait (bounded) until the client has acknowledged every byte sent.
    void wait_delivered();
    void reset();
    void close();
    // Apply a whole script after the request head has been read.
    void play(const script& s);

private:
    // Read more bytes into pending_; false on EOF.
    bool fill();
    void wait_for(short events);
    void record_received(std::string_view bytes);

    int fd_;
    std::size_t index_;
    std::mutex& mutex_;
    connection_record& record_;
    int stop_fd_;
    std::string pending_;
};

using connection_handler = std::function<void(proxy_connection&)>;

// The usual handler: read a request head, then play the script, on every connection.
connection_handler serve(script s);

// Which loopback address the proxy listens on.
enum class loopback { v4, v6 };

class scripted_proxy {
public:
    // Listening (bound to 127.0.0.1:0 or [::1]:0) when the constructor returns.
    explicit scripted_proxy(connection_handler handler, loopback where = loopback::v4);
    explicit scripted_proxy(script s, loopback where = loopback::v4)
        : scripted_proxy(serve(std::move(s)), where) {}
    ~scripted_proxy();
    scripted_proxy(const scripted_proxy&) = delete;
    scripted_proxy& operator=(const scripted_proxy&) = delete;

    std::uint16_t port() const { return port_; }
    // "127.0.0.1:PORT" or "[::1]:PORT", as in a URL and in the program's messages.
    std::string host_port() const;

    // Connections accepted so far, plus one still waiting in the backlog.
    std::size_t connection_count() const;
    // Wait (bounded) for every handler to finish; false if some are still running.
    bool wait_handlers(std::chrono::milliseconds limit = std::chrono::seconds(10));
    // Snapshot of what the proxy saw, one entry per connection.
    std::vector<connection_record> records() const;
    // All request heads, in order, across connections.
    std::vector<std::string> all_requests() const;

private:
    void accept_loop();
    void stop();

    connection_handler handler_;
    loopback where_;
    int listen_fd_ = -1;
    int stop_pipe_[2] = {-1, -1};
    std::uint16_t port_ = 0;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<connection_record>> records_;
    std::size_t accepted_ = 0;
    std::size_t finished_ = 0;
    std::condition_variable changed_;
    std::vector<std::thread> handlers_;
    std::thread acceptor_;
};

} // namespace corkscrew_test
