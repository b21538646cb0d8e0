#include "argv.hpp"

#include <doctest/doctest.h>

#include <vector>

using namespace corkscrew;

namespace {

constexpr option_spec table[] = {
    {'x', "proxy", "URL", "the proxy"}, {'H', "header", "'NAME: VALUE'", "a header"},
    {'v', "verbose", "", "say more"},   {'4', "", "", "IPv4 only"},
    {0, "auth", "SCHEME", "a scheme"},
};

result<parsed_argv> parse(std::vector<const char*> words) {
    words.insert(words.begin(), "corkscrew++");
    return parse_argv(table, static_cast<int>(words.size()), words.data());
}

} // namespace

TEST_CASE("argv: values in every GNU spelling, flags bundled, arguments between options") {
    auto p = parse({"-x", "a", "dest", "--proxy=b", "-xc", "--proxy", "d", "-vv4", "22", "-Hk: v",
                    "--auth", "basic"});
    REQUIRE(p);
    CHECK(p->all("proxy") == std::vector<std::string>{"a", "b", "c", "d"});
    CHECK(*p->last("proxy") == "d");
    CHECK(p->count("verbose") == 2);
    CHECK(p->count("4") == 1);
    CHECK(*p->last("header") == "k: v");
    CHECK(*p->last("auth") == "basic");
    CHECK(p->arguments == std::vector<std::string>{"dest", "22"});
    CHECK(p->count("nothing") == 0);
    CHECK(p->last("nothing") == nullptr);
}

TEST_CASE("argv: -- ends the options; a lone - and an empty value are arguments and values") {
    auto p = parse({"-v", "--", "-x", "--proxy", "-"});
    REQUIRE(p);
    CHECK(p->count("verbose") == 1);
    CHECK(p->arguments == std::vector<std::string>{"-x", "--proxy", "-"});
    auto q = parse({"-", "--proxy=", "--auth", "-v"});
    REQUIRE(q);
    CHECK(q->arguments == std::vector<std::string>{"-"});
    CHECK(*q->last("proxy") == "");
    // A value that looks like an option is still the value asked for.
    CHECK(*q->last("auth") == "-v");
    CHECK(q->count("verbose") == 0);
}

TEST_CASE("argv: unknown options, missing values and values given to flags are usage errors") {
    struct bad {
        std::vector<const char*> words;
        const char* message;
    };
    for (const auto& b : std::vector<bad>{
             {{"--nope"}, "unknown option '--nope'"},
             {{"-z"}, "unknown option '-z'"},
             {{"-vz"}, "unknown option '-z'"},
             {{"--proxy"}, "option --proxy needs a value (URL)"},
             {{"dest", "-x"}, "option -x needs a value (URL)"},
             {{"--verbose=yes"}, "option --verbose takes no value"},
             {{"--prox", "a"}, "unknown option '--prox'"},
             {{"--\x1b[2J"}, "unknown option '--?[2J'"},
         }) {
        auto p = parse(b.words);
        CAPTURE(b.message);
        REQUIRE_FALSE(p);
        CHECK(p.err().kind == failure::usage);
        CHECK(p.err().message == b.message);
    }
}

TEST_CASE("argv: the option list names every option with its value and wraps long help") {
    constexpr option_spec wide[] = {
        {'x', "proxy", "URL", "one two three four five six seven eight nine ten eleven twelve"},
        {'4', "", "", "IPv4 only"},
        {0, "auth", "SCHEME", "a scheme"},
    };
    auto text = option_list(wide, 60);
    CHECK(text == "  -x, --proxy URL    one two three four five six seven eight\n"
                  "                     nine ten eleven twelve\n"
                  "  -4                 IPv4 only\n"
                  "      --auth SCHEME  a scheme\n");
}
