#include "argv.hpp"

#include "text.hpp"

#include <algorithm>

namespace corkscrew {

namespace {

const option_spec* find_long(std::span<const option_spec> table, std::string_view name) {
    for (const auto& o : table)
        if (!o.long_name.empty() && o.long_name == name)
            return &o;
    return nullptr;
}

const option_spec* find_short(std::span<const option_spec> table, char name) {
    for (const auto& o : table)
        if (o.short_name != 0 && o.short_name == name)
            return &o;
    return nullptr;
}

std::string shown(const option_spec& o) {
    return o.long_name.empty() ? "-" + std::string(1, o.short_name)
                               : "--" + std::string(o.long_name);
}

} // namespace

std::size_t parsed_argv::count(std::string_view key) const {
    auto it = options.find(key);
    return it == options.end() ? 0 : it->second.size();
}

const std::string* parsed_argv::last(std::string_view key) const {
    auto it = options.find(key);
    return it == options.end() || it->second.empty() ? nullptr : &it->second.back();
}

std::vector<std::string> parsed_argv::all(std::string_view key) const {
    auto it = options.find(key);
    return it == options.end() ? std::vector<std::string>{} : it->second;
}

result<parsed_argv> parse_argv(std::span<const option_spec> table, int argc,
                               const char* const* argv) {
    parsed_argv out;
    for (int i = 1; i < argc; ++i) {
        std::string_view word = argv[i];
        if (word == "--") {
            for (++i; i < argc; ++i)
                out.arguments.emplace_back(argv[i]);
            break;
        }
        if (word.size() < 2 || word[0] != '-') {
            out.arguments.emplace_back(word);
            continue;
        }
        if (word[1] == '-') {
            // --name, --name=value, --name value
            auto body = word.substr(2);
            auto eq = body.find('=');
            auto name = body.substr(0, eq);
            const auto* o = find_long(table, name);
            if (!o)
                return fail(failure::usage, "unknown option '--" + printable(name) + "'");
            if (o->value_name.empty()) {
                if (eq != std::string_view::npos)
                    return fail(failure::usage, "option " + shown(*o) + " takes no value");
                out.options[o->key()].emplace_back();
            } else if (eq != std::string_view::npos) {
                out.options[o->key()].emplace_back(body.substr(eq + 1));
            } else if (i + 1 < argc) {
                out.options[o->key()].emplace_back(argv[++i]);
            } else {
                return fail(failure::usage, "option " + shown(*o) + " needs a value (" +
                                                std::string(o->value_name) + ")");
            }
            continue;
        }
        // -abc: flags, until one that takes a value takes the rest (or the next word).
        for (std::size_t k = 1; k < word.size(); ++k) {
            const auto* o = find_short(table, word[k]);
            if (!o)
                return fail(failure::usage,
                            "unknown option '-" + printable(word.substr(k, 1)) + "'");
            if (o->value_name.empty()) {
                out.options[o->key()].emplace_back();
                continue;
            }
            if (k + 1 < word.size())
                out.options[o->key()].emplace_back(word.substr(k + 1));
            else if (i + 1 < argc)
                out.options[o->key()].emplace_back(argv[++i]);
            else
                return fail(failure::usage, "option -" + std::string(1, o->short_name) +
                                                " needs a value (" + std::string(o->value_name) +
                                                ")");
            break;
        }
    }
    return out;
}

std::string option_list(std::span<const option_spec> table, std::size_t width) {
    std::vector<std::string> names;
    std::size_t column = 0;
    for (const auto& o : table) {
        std::string n = "  ";
        n += o.short_name ? "-" + std::string(1, o.short_name) : "  ";
        if (!o.long_name.empty())
            n += (o.short_name ? ", --" : "  --") + std::string(o.long_name);
        if (!o.value_name.empty())
            n += " " + std::string(o.value_name);
        column = std::max(column, n.size());
        names.push_back(std::move(n));
    }
    column += 2;
    std::string out;
    for (std::size_t i = 0; i < table.size(); ++i) {
        std::string line = names[i] + std::string(column - names[i].size(), ' ');
        // Wrap the help at word boundaries, continuation lines indented to the column.
        std::string_view help = table[i].help;
        while (!help.empty()) {
            auto room = width > column + 20 ? width - column : 20;
            std::string_view piece = help;
            if (help.size() > room) {
                auto cut = help.rfind(' ', room);
                piece = help.substr(0, cut == std::string_view::npos ? room : cut);
            }
            line += std::string(piece) + "\n";
            help.remove_prefix(std::min(help.size(), piece.size() + 1));
            if (!help.empty())
                line += std::string(column, ' ');
        }
        if (table[i].help.empty())
            line += "\n";
        out += line;
    }
    return out;
}

} // namespace corkscrew
