#include "probe.hpp"

#include "session.hpp"
#include "text.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>

namespace corkscrew {

namespace {

// The exchange's state changes ("tunnel to D via P: sending -> receiving") say nothing the other
// lines do not.
bool is_state_change(std::string_view line) {
    return line.starts_with("tunnel to ") && line.find(": ") != std::string_view::npos &&
           line.find(" -> ", line.rfind(": ")) != std::string_view::npos;
}

// Of the answer's headers (logged as "  < Name: value"), those that say why or who: the
// challenges, which proxy answered, and its own reason for a refusal.
bool is_noise_header(std::string_view line) {
    if (!line.starts_with("  < "))
        return false;
    const auto name = line.substr(4, line.find(':') - 4);
    for (const char* kept : {"proxy-authenticate", "server", "via", "x-squid-error", "proxy-status",
                             "warning", "retry-after"})
        if (iequals(name, kept))
            return false;
    return true;
}

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

std::string json_string(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20 || c >= 0x7f) {
                // Bytes, not text: each one as the code point of the same number.
                char u[8];
                std::snprintf(u, sizeof u, "\\u%04x", c);
                out += u;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

} // namespace

std::string probe_hint(const config& settings, const probe_facts& f) {
    const auto port = settings.path.destination.port;
    const auto& e = f.error;
    if (f.exit_status == 0) {
        if (!f.first_bytes)
            return "the destination sent nothing: normal where the client speaks first (HTTP, "
                   "TLS, databases); for ssh it means the far side is not an ssh server";
        return "";
    }
    switch (f.exit_status) {
    case 3:
        return "check the proxy's host and port (-x, CORKSCREW_PROXY, https_proxy): nothing "
               "answers there from this network";
    case 4:
        if (contains(e, " 403") && port != 443)
            return "many proxies allow CONNECT to port 443 only: if the service also listens "
                   "there, use that port (for GitHub: ssh.github.com 443)";
        if (contains(e, " 503") || contains(e, " 502"))
            return "the proxy could not reach " + authority(settings.path.destination) +
                   ": check the name and port, and that the service runs";
        return "the proxy refuses this destination: ask its administrators which are allowed";
    case 5: {
        // "... (offers Digest realm=...; it speaks ...)": what this proxy asked for.
        std::string_view offered;
        if (auto at = e.find("(offers "); at != std::string::npos)
            offered = std::string_view(e).substr(at + 8);
        offered = offered.substr(0, offered.find("; it speaks"));
        for (const char* scheme : {"Negotiate", "Digest", "Basic"})
            if (contains(e, "no credentials") && contains(offered, scheme))
                return std::string("the proxy wants ") + scheme +
                       (std::string_view(scheme) == "Negotiate"
                            ? ": get a Kerberos ticket (kinit) and name the proxy as in its "
                              "principal (HTTP/proxy.example -> -x http://proxy.example:PORT)"
                            : ": give credentials with --auth-file FILE (user:password), "
                              "CORKSCREW_AUTH=user:password, ~/.netrc, or a user in the proxy "
                              "URL (http://user@proxy:port) to be asked for the password");
        return "check the user and password for the proxy; -vv shows the exchange";
    }
    case 6:
        return "that port does not answer like an HTTP proxy: is it the proxy's port, and "
               "http:// or https:// as the proxy expects?";
    case 7:
        return "nothing answered within --connect-timeout: a firewall may drop the packets, or "
               "the proxy is overloaded";
    default:
        return "";
    }
}

std::string render_probe_text(const config& settings, const probe_facts& f) {
    std::string out = "probe of " + f.destination + "\n";
    for (const auto& s : f.steps) {
        char time[32];
        std::snprintf(time, sizeof time, "%9.1f ms  ", s.ms);
        out += time + s.text + "\n";
    }
    if (f.tunnel_up) {
        if (f.first_bytes) {
            // A banner's line end is no part of what it says.
            std::string_view shown = *f.first_bytes;
            while (shown.ends_with('\n') || shown.ends_with('\r'))
                shown.remove_suffix(1);
            out += "the destination sent first: \"" + printable(shown) + "\"\n";
        } else
            out += "the destination sent nothing\n";
    }
    if (f.exit_status == 0)
        out += "verdict: ok: the tunnel to " + f.destination + " works\n";
    else
        out += "verdict: failed (exit " + std::to_string(f.exit_status) + "): " + f.error + "\n";
    if (auto hint = probe_hint(settings, f); !hint.empty())
        out += "hint: " + hint + "\n";
    return out;
}

std::string render_probe_json(const config& settings, const probe_facts& f) {
    std::string out = "{\"destination\":" + json_string(f.destination) + ",\"steps\":[";
    for (std::size_t i = 0; i < f.steps.size(); ++i) {
        char ms[32];
        std::snprintf(ms, sizeof ms, "%.3f", f.steps[i].ms);
        out += std::string(i ? "," : "") + "{\"ms\":" + ms +
               ",\"text\":" + json_string(f.steps[i].text) + "}";
    }
    out += "],\"tunnel_up\":" + std::string(f.tunnel_up ? "true" : "false");
    out += ",\"first_bytes\":" + (f.first_bytes ? json_string(*f.first_bytes) : "null");
    out += ",\"verdict\":" + json_string(f.exit_status == 0 ? "ok" : "failed");
    out += ",\"exit_status\":" + std::to_string(f.exit_status);
    out += ",\"error\":" + (f.exit_status ? json_string(f.error) : "null");
    auto hint = probe_hint(settings, f);
    out += ",\"hint\":" + (hint.empty() ? "null" : json_string(hint));
    return out + "}\n";
}

int run_probe(const config& settings) {
    probe_facts facts;
    facts.destination = authority(settings.path.destination);
    const auto start = std::chrono::steady_clock::now();
    auto sink = std::make_shared<const logger::line_sink>([&](std::string_view line) {
        if (is_state_change(line) || is_noise_header(line))
            return;
        const std::chrono::duration<double, std::milli> since =
            std::chrono::steady_clock::now() - start;
        facts.steps.push_back({since.count(), std::string(line)});
    });
    // Every step the run can tell, headers included; credentials are redacted where logged.
    logger collect(2, sink);
    net::io_context io{1};
    session s(settings, collect, io);
    net::signal_set signals(io, SIGHUP, SIGTERM, SIGINT);
    signals.async_wait([&](const error_code& ec, int signo) {
        if (!ec)
            s.stop(signo);
    });
    net::co_spawn(io, s.run(), [&](std::exception_ptr e) {
        error_code ignored;
        signals.cancel(ignored);
        if (e)
            facts.error = "internal error";
    });
    io.run();
    facts.exit_status = s.status();
    facts.first_bytes = s.first_bytes();
    for (const auto& step : facts.steps)
        facts.tunnel_up = facts.tunnel_up || step.text.starts_with("tunnel established");
    if (facts.exit_status != 0 && facts.error.empty() && !facts.steps.empty())
        facts.error = facts.steps.back().text; // the failure is the last line logged
    auto text =
        settings.json ? render_probe_json(settings, facts) : render_probe_text(settings, facts);
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    return facts.exit_status;
}

} // namespace corkscrew
