// Asking the user for the proxy password, as ssh asks for a passphrase: on the terminal, else
// through an SSH_ASKPASS program. Never through stdin or stdout: they carry the tunnel.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

namespace corkscrew {

// The controlling terminal, whichever terminal ssh was started from.
inline constexpr const char* default_tty_path = "/dev/tty";

// The longest password accepted; longer input is refused rather than cut (a cut password fails
// later with a confusing 407). Far above any real password, small enough for a stack buffer.
inline constexpr std::size_t max_password_bytes = 1024;

// How long an SSH_ASKPASS program may take: time for someone to notice the dialog and type, but
// not forever, since a dialog on a display nobody watches would hang ssh with it.
inline constexpr std::chrono::seconds default_askpass_timeout{120};

// What ask_password() takes from the environment, as a plain value, so the environment is read
// where the rest of it is (and tests can supply a pseudo-terminal and a fake askpass program).
struct prompt_env {
    std::string tty_path = default_tty_path;
    std::string askpass;         // SSH_ASKPASS: the program to run, empty when not set
    std::string askpass_require; // SSH_ASKPASS_REQUIRE: "never", "prefer", "force" or empty
    bool display = false;        // DISPLAY or WAYLAND_DISPLAY is set and not empty
    std::chrono::milliseconds askpass_timeout = default_askpass_timeout;
};

// Looks up an environment variable (the shape of options.hpp's env_lookup).
using prompt_env_lookup = std::function<std::optional<std::string>(const char* name)>;

// SSH_ASKPASS, SSH_ASKPASS_REQUIRE, DISPLAY and WAYLAND_DISPLAY read through `env`.
prompt_env prompt_env_from(const prompt_env_lookup& env);

// Asks for a password with `prompt`, the way ssh does:
//  - on the terminal (env.tty_path) with echo off, restored on every way out; a Ctrl-C or another
//    terminating signal restores the terminal before it takes effect, and ends the prompt;
//  - else, or first when SSH_ASKPASS_REQUIRE is "prefer" or "force", by running SSH_ASKPASS with
//    the prompt as its argument and taking the first line it prints (only with a display, unless
//    SSH_ASKPASS_REQUIRE=force; never when it is "never"; stdin from /dev/null; bounded wait).
// Nothing when there is no way to ask, or the user gave no answer; `why_not` then says why, in a
// phrase that can follow "no credentials: ". The password returned is all the line held (an
// empty line is an empty password); buffers that held it are wiped.
std::optional<std::string> ask_password(const std::string& prompt, const prompt_env& env,
                                        std::string& why_not);

// ask_password() with the process's own environment.
std::optional<std::string> ask_password(const std::string& prompt, std::string& why_not);

} // namespace corkscrew
