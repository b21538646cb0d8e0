#include "tunnel.hpp"

#include "answer.hpp"
#include "auth.hpp"
#include "text.hpp"

#include <algorithm>
#include <array>

namespace corkscrew {

namespace {

// How much is asked of the proxy connection per read while its answer is awaited.
constexpr std::size_t answer_read_chunk = 16 * 1024;

// The states of one CONNECT exchange; every change goes through exchange::enter, which logs it.
enum class tunnel_state { init, connecting, sending, receiving, established, failed };

const char* state_name(tunnel_state s) {
    switch (s) {
    case tunnel_state::init:
        return "init";
    case tunnel_state::connecting:
        return "connecting";
    case tunnel_state::sending:
        return "sending";
    case tunnel_state::receiving:
        return "receiving";
    case tunnel_state::established:
        return "established";
    case tunnel_state::failed:
        return "failed";
    }
    return "?";
}

void wipe_authorization(std::optional<std::string>& value) {
    if (value)
        wipe(*value);
}

class exchange {
public:
    exchange(const connector& connect, const hop& through, const endpoint_name& target,
             const request_options& options, const logger& log)
        : connect_(connect), hop_(through), target_(target), options_(options), log_(log),
          proxy_name_(authority(through.proxy)), target_name_(authority(target)) {}

    net::awaitable<result<tunnel>> run() {
        if (auto e = co_await reconnect())
            co_return std::move(*e);
        auth_step auth(auth_settings{options_.auth, hop_.creds, hop_.preemptive_basic,
                                     hop_.proxy.host, proxy_name_, target_name_, hop_.ask},
                       log_);
        std::optional<std::string> authorization = auth.preemptive();
        // The credentials in it go from memory however the exchange ends.
        struct wipe_at_exit {
            std::optional<std::string>& value;
            ~wipe_at_exit() { wipe_authorization(value); }
        } wipe_guard{authorization};
        int tries = authorization ? 1 : 0;
        // Whether the connection has carried an earlier answer: a proxy may close such a
        // connection at any time, which is no failure of the request sent on it.
        bool reused = false;
        // One pass per request; a 407 that can be answered loops back with new credentials.
        for (;;) {
            enter(tunnel_state::sending);
            result<std::unique_ptr<answer_parser>> answer = error{};
            if (auto e = co_await send(authorization)) {
                answer = std::move(*e);
            } else {
                enter(tunnel_state::receiving);
                answer = co_await receive_final_answer();
            }
            if (!answer) {
                if (reused && received_for_request_ == 0) {
                    // RFC 9112 section 9.3.1: retry on a new connection. Not a new try.
                    log_.info("proxy closed the kept-alive connection; reconnecting");
                    reused = false;
                    if (auto e = co_await reconnect())
                        co_return std::move(*e);
                    continue;
                }
                co_return failed(answer.err());
            }
            answer_parser& reply = **answer;
            const auto& head = reply.head();
            if (head.is_success()) {
                if (auto e = auth.on_success(head))
                    co_return failed(std::move(*e));
                enter(tunnel_state::established);
                if (!head.ignored_problem.empty())
                    log_.info("ignored a header problem in the 2xx answer: " +
                              head.ignored_problem);
                co_return tunnel{std::move(stream_), std::move(buffer_)};
            }
            if (head.status == 401 && authorization)
                // tinyproxy answers a wrong Basic password with 401 instead of 407: a rejection
                // of the credentials all the same, and no challenge to answer again.
                co_return failed(fail(failure::auth_failed,
                                      "proxy " + proxy_name_ + " rejected the " +
                                          std::string(auth.scheme()) + " credentials" +
                                          (auth.credentials_source().empty()
                                               ? ""
                                               : " (from " + auth.credentials_source() + ")") +
                                          " for CONNECT to " + target_name_ + ": " +
                                          head.status_line()));
            if (head.status != 407)
                co_return failed(
                    fail(failure::proxy_refused, "proxy " + proxy_name_ + " refused CONNECT to " +
                                                     target_name_ + ": " + head.status_line()));
            auto previous = std::string(auth.scheme());
            auto next = auth.on_challenge(head);
            if (!next)
                co_return failed(next.err());
            if (next->counts_as_try) {
                if (tries >= max_auth_tries)
                    co_return failed(
                        fail(failure::auth_failed,
                             "proxy " + proxy_name_ + " rejected the " + previous + " credentials" +
                                 (auth.credentials_source().empty()
                                      ? ""
                                      : " (from " + auth.credentials_source() + ")") +
                                 " for CONNECT to " + target_name_ + ": " + head.status_line() +
                                 " after " + std::to_string(tries) + " tries"));
                ++tries;
            }
            wipe_authorization(authorization);
            authorization = std::move(next->authorization);
            log_.info("proxy asked for authentication; answering with " +
                      std::string(auth.scheme()) +
                      (auth.credentials_source().empty() || auth.scheme() == "Negotiate"
                           ? ""
                           : " credentials from " + auth.credentials_source()));
            reused = co_await discard_body(reply);
            if (!reused) {
                log_.info("the proxy's connection cannot carry the retry; reconnecting");
                if (auto e = co_await reconnect())
                    co_return std::move(*e);
            }
        }
    }

private:
    void enter(tunnel_state next) {
        log_.debug("tunnel to " + target_name_ + " via " + proxy_name_ + ": " + state_name(state_) +
                   " -> " + state_name(next));
        state_ = next;
    }

    error failed(error e) {
        enter(tunnel_state::failed);
        return e;
    }

    net::awaitable<std::optional<error>> reconnect() {
        enter(tunnel_state::connecting);
        buffer_.clear();
        peeked_ = 0;
        stream_.reset();
        auto stream = co_await connect_();
        if (!stream)
            co_return failed(stream.err());
        stream_ = std::move(*stream);
        co_return std::nullopt;
    }

    net::awaitable<std::optional<error>> send(const std::optional<std::string>& authorization) {
        connect_request request{target_, options_.user_agent, options_.extra_headers,
                                authorization};
        log_.info("sending CONNECT " + target_name_ + " to proxy " + proxy_name_ +
                  (authorization ? " with " + authorization->substr(0, authorization->find(' ')) +
                                       " credentials"
                                 : ""));
        if (log_.verbose(2)) {
            auto shown = render_redacted(request);
            for (std::size_t at = 0, end; (end = shown.find("\r\n", at)) != at; at = end + 2)
                log_.debug("  > " + shown.substr(at, end - at));
        }
        received_for_request_ = buffer_.size();
        auto wire = render(request);
        auto r = co_await stream_->write_all(net::buffer(wire));
        wipe(wire);
        if (r.ec)
            co_return failed(fail(failure::proxy_unreachable,
                                  "cannot send CONNECT " + target_name_ + " to proxy " +
                                      proxy_name_ + ": " + r.ec.message()));
        co_return std::nullopt;
    }

    // Appends what the proxy sends next to buffer_. Reading exactly, the bytes peeked at before
    // are taken first (more is asked for only when all of them belong to the answer), and the
    // new ones are only peeked at.
    net::awaitable<io_result> read_more() {
        std::array<char, answer_read_chunk> chunk;
        if (!options_.exact) {
            auto r = co_await stream_->read_some(net::buffer(chunk));
            buffer_.append(chunk.data(), r.bytes);
            received_for_request_ += r.bytes;
            co_return r;
        }
        if (peeked_ > 0) {
            auto taken = co_await take_peeked(peeked_);
            peeked_ = 0;
            if (taken.ec)
                co_return taken;
        }
        auto r = co_await stream_->peek_some(net::buffer(chunk));
        buffer_.append(chunk.data(), r.bytes);
        peeked_ = r.bytes;
        received_for_request_ += r.bytes;
        co_return r;
    }

    // Reading exactly: the first `end` bytes of buffer_ complete the answer's head or body.
    // Takes those of them still on the connection; the peeked bytes after them are forgotten and
    // stay there, for the next read or for whoever gets the connection.
    net::awaitable<io_result> keep_only(std::size_t end) {
        auto beyond = buffer_.size() - end;
        // Bytes already taken cannot be put back: they stay, and show as the tunnel's leftover.
        auto forgotten = std::min(beyond, peeked_);
        io_result r;
        if (peeked_ > forgotten)
            r = co_await take_peeked(peeked_ - forgotten);
        buffer_.resize(buffer_.size() - forgotten);
        peeked_ = 0;
        co_return r;
    }

    // Takes `count` bytes that were peeked at, and so are in buffer_ (or parsed) already.
    net::awaitable<io_result> take_peeked(std::size_t count) {
        std::array<char, answer_read_chunk> chunk;
        io_result total;
        while (total.bytes < count && !total.ec) {
            auto r = co_await stream_->read_some(
                net::buffer(chunk.data(), std::min(chunk.size(), count - total.bytes)));
            total.bytes += r.bytes;
            total.ec = r.ec;
        }
        co_return total;
    }

    // Reads answers until one is final (1xx interim answers are skipped, RFC 9110 section 15.2).
    // Its head is consumed from buffer_; what follows stays there.
    net::awaitable<result<std::unique_ptr<answer_parser>>> receive_final_answer() {
        for (;;) {
            auto answer = std::make_unique<answer_parser>();
            for (;;) {
                auto used = answer->parse_head(buffer_);
                if (!used)
                    co_return fail(used.err().kind, "proxy " + proxy_name_ +
                                                        " sent a bad answer "
                                                        "to CONNECT " +
                                                        target_name_ + ": " + used.err().message);
                if (*used) {
                    if (options_.exact) {
                        auto r = co_await keep_only(*used);
                        if (r.ec)
                            co_return fail(failure::bad_answer,
                                           "proxy " + proxy_name_ +
                                               " connection failed while reading its answer to "
                                               "CONNECT " +
                                               target_name_ + ": " + r.ec.message());
                    }
                    buffer_.erase(0, *used);
                    break;
                }
                auto r = co_await read_more();
                if (r.ec == net::error::eof)
                    co_return fail(failure::bad_answer,
                                   "proxy " + proxy_name_ + " closed the connection " +
                                       (buffer_.empty() ? "without answering"
                                                        : "in the middle of its answer") +
                                       " to CONNECT " + target_name_);
                if (r.ec == net::error::operation_not_supported)
                    co_return fail(failure::usage, "the connection to proxy " + proxy_name_ +
                                                       " cannot be read without taking tunnel "
                                                       "data, which handing it on needs");
                if (r.ec)
                    co_return fail(failure::bad_answer, "proxy " + proxy_name_ +
                                                            " connection failed while waiting "
                                                            "for the answer to CONNECT " +
                                                            target_name_ + ": " + r.ec.message());
            }
            const auto& head = answer->head();
            log_.info("proxy answered: HTTP/" + std::to_string(head.version / 10) + "." +
                      std::to_string(head.version % 10) + " " + head.status_line());
            for (const auto& f : head.fields)
                log_.debug("  < " + printable(f.name) + ": " + printable(f.value));
            if (!head.is_interim())
                co_return std::move(answer);
            log_.info("skipping the interim answer");
        }
    }

    // Reads and drops the body of a non-2xx answer. True when the connection can carry the next
    // request; false when a new one is needed (the proxy closes it, the body has no framing, or it
    // is too large to be worth reading).
    net::awaitable<bool> discard_body(answer_parser& answer) {
        if (!answer.head().keep_alive || !answer.body_is_framed())
            co_return false;
        std::size_t discarded = 0;
        while (!answer.done()) {
            if (!buffer_.empty()) {
                auto used = answer.parse_body(buffer_);
                if (!used)
                    co_return false;
                if (options_.exact && answer.done() && (co_await keep_only(*used)).ec)
                    co_return false;
                buffer_.erase(0, *used);
                discarded += *used;
                if (*used > 0)
                    continue;
            }
            if (discarded + buffer_.size() > max_discarded_body_bytes)
                co_return false;
            auto r = co_await read_more();
            if (r.ec)
                co_return false;
        }
        co_return true;
    }

    const connector& connect_;
    const hop& hop_;
    const endpoint_name& target_;
    const request_options& options_;
    const logger& log_;
    std::string proxy_name_;
    std::string target_name_;
    tunnel_state state_ = tunnel_state::init;
    std::unique_ptr<byte_stream> stream_;
    std::string buffer_; // received from the proxy and not consumed yet
    // Reading exactly: how many of the bytes last appended to buffer_ (some maybe parsed and
    // erased since) were only peeked at, and are still on the connection.
    std::size_t peeked_ = 0;
    // Bytes received since the current request was sent (those already buffered included).
    std::size_t received_for_request_ = 0;
};

} // namespace

net::awaitable<result<tunnel>> open_tunnel(const connector& connect, const hop& through,
                                           const endpoint_name& target,
                                           const request_options& options, const logger& log) {
    exchange x(connect, through, target, options, log);
    co_return co_await x.run();
}

} // namespace corkscrew
