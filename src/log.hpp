// Messages on stderr, the only channel ssh shows of a ProxyCommand. Every line starts with the
// program name; credentials never reach here (callers redact them first).
#pragma once

#include <string_view>

namespace corkscrew {

class logger {
public:
    // -1 with -q, 0 by default, 1 with -v, 2 with -vv and more.
    explicit logger(int verbosity = 0) : verbosity_(verbosity) {}

    bool verbose(int level = 1) const { return verbosity_ >= level; }

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
    static void write(std::string_view line);
    int verbosity_;
};

} // namespace corkscrew
