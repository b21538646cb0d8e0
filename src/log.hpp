// Messages on stderr, the only channel ssh shows of a ProxyCommand. Every line starts with the
// program name; credentials never reach here (callers redact them first).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace corkscrew {

class logger {
public:
    // -1 with -q, 0 by default, 1 with -v, 2 with -vv and more. `prefix` starts every line after
    // the program name (a listener's client, "127.0.0.1:50312: ").
    explicit logger(int verbosity = 0, std::string prefix = {})
        : verbosity_(verbosity), prefix_(std::move(prefix)) {}

    // Lines go to `sink` instead of stderr, without the program name (--probe collects them).
    using line_sink = std::function<void(std::string_view)>;
    logger(int verbosity, std::shared_ptr<const line_sink> sink)
        : verbosity_(verbosity), sink_(std::move(sink)) {}

    bool verbose(int level = 1) const { return verbosity_ >= level; }
    int verbosity() const { return verbosity_; }

    void error(std::string_view line) const { write(line); }
    void warn(std::string_view line) const {
        if (verbosity_ >= 0)
            write(line);
    }
    void info(std::string_view line) const {
        if (verbosity_ >= 1)
            write(line);
    }
    void debug(std::string_view line) const {
        if (verbosity_ >= 2)
            write(line);
    }

private:
    void write(std::string_view line) const;
    int verbosity_;
    std::string prefix_;
    std::shared_ptr<const line_sink> sink_;
};

} // namespace corkscrew
