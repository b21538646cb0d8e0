#include "prompt.hpp"

#include "scratch_dir.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace corkscrew;
using corkscrew_test::scratch_dir;
using namespace std::chrono_literals;

namespace {

// Long enough for a loaded machine, short enough that a hang fails the test instead of the run.
constexpr auto answer_wait = 10s;

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

// A pseudo-terminal: the code under test opens the terminal side by its path, the test plays the
// user on the other side.
class pseudo_terminal {
public:
    pseudo_terminal() {
        master_ = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        REQUIRE(master_ >= 0);
        REQUIRE(::grantpt(master_) == 0);
        REQUIRE(::unlockpt(master_) == 0);
        char name[128];
        REQUIRE(::ptsname_r(master_, name, sizeof name) == 0);
        path_ = name;
        // Held open so that the terminal lives on between the prompt's open and close.
        terminal_ = ::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        REQUIRE(terminal_ >= 0);
    }
    pseudo_terminal(const pseudo_terminal&) = delete;
    pseudo_terminal& operator=(const pseudo_terminal&) = delete;
    ~pseudo_terminal() {
        hang_up();
        ::close(terminal_);
    }

    const std::string& path() const { return path_; }

    // Closes the user's side: a prompt still reading gets an error and returns.
    void hang_up() {
        if (master_ >= 0)
            ::close(master_);
        master_ = -1;
    }

    // What the terminal showed, read until `text` appears or the wait is over.
    std::string read_until(std::string_view text, std::chrono::milliseconds wait = answer_wait) {
        const auto deadline = std::chrono::steady_clock::now() + wait;
        while (!contains(shown_, text) && std::chrono::steady_clock::now() < deadline) {
            pollfd ready{master_, POLLIN, 0};
            if (::poll(&ready, 1, 50) <= 0)
                continue;
            char buffer[512];
            const ssize_t n = ::read(master_, buffer, sizeof buffer);
            if (n <= 0)
                break;
            shown_.append(buffer, static_cast<std::size_t>(n));
        }
        return shown_;
    }

    void type(std::string_view keys) {
        REQUIRE(::write(master_, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
    }

    bool echo_on() const {
        termios mode{};
        REQUIRE(::tcgetattr(terminal_, &mode) == 0);
        return (mode.c_lflag & ECHO) != 0;
    }

private:
    int master_ = -1;
    int terminal_ = -1;
    std::string path_;
    std::string shown_;
};

struct answer {
    std::optional<std::string> password;
    std::string why_not;
};

// ask_password() on a thread of its own, while the test plays the user. If the test ends first,
// the terminal is hung up so the prompt returns and the thread can be joined.
class background_prompt {
public:
    background_prompt(pseudo_terminal& tty, std::string prompt, prompt_env env) : tty_(tty) {
        auto done = std::make_shared<std::promise<answer>>();
        result_ = done->get_future();
        thread_ = std::thread([done, prompt = std::move(prompt), env = std::move(env)] {
            answer a;
            a.password = ask_password(prompt, env, a.why_not);
            done->set_value(std::move(a));
        });
    }
    background_prompt(const background_prompt&) = delete;
    background_prompt& operator=(const background_prompt&) = delete;
    ~background_prompt() {
        if (result_.valid() && result_.wait_for(0s) != std::future_status::ready)
            tty_.hang_up();
        thread_.join();
    }

    pthread_t native_handle() { return thread_.native_handle(); }

    answer get() {
        REQUIRE(result_.wait_for(answer_wait) == std::future_status::ready);
        return result_.get();
    }

private:
    pseudo_terminal& tty_;
    std::future<answer> result_;
    std::thread thread_;
};

prompt_env terminal_env(const pseudo_terminal& tty) {
    prompt_env env;
    env.tty_path = tty.path();
    return env;
}

prompt_env askpass_env(std::string program) {
    prompt_env env;
    env.tty_path = "/nonexistent/tty";
    env.askpass = std::move(program);
    env.display = true;
    env.askpass_timeout = answer_wait;
    return env;
}

std::atomic<int> signal_seen{0};

extern "C" void note_signal(int s) {
    signal_seen = s;
}

} // namespace

TEST_CASE("the terminal: prompt shown, echo off while typing, password returned") {
    pseudo_terminal tty;
    REQUIRE(tty.echo_on());
    const std::string prompt = "Password for alice at proxy proxy.example:3128: ";
    background_prompt asking(tty, prompt, terminal_env(tty));

    CHECK(contains(tty.read_until(prompt), prompt));
    CHECK_FALSE(tty.echo_on());
    tty.type("s3cret\n");

    auto a = asking.get();
    REQUIRE(a.password);
    CHECK(*a.password == "s3cret");
    CHECK(tty.echo_on());
    // The Enter was not echoed, so the prompt moves to the next line itself; the password never
    // appears on the screen.
    const auto shown = tty.read_until(prompt + "\r\n", 1s);
    CHECK(shown == prompt + "\r\n");
}

TEST_CASE("the terminal: an empty line is an empty password, spaces are kept") {
    pseudo_terminal tty;
    {
        background_prompt asking(tty, "P: ", terminal_env(tty));
        tty.read_until("P: ");
        tty.type("\n");
        auto a = asking.get();
        REQUIRE(a.password);
        CHECK(a.password->empty());
    }
    pseudo_terminal tty2;
    background_prompt asking(tty2, "P: ", terminal_env(tty2));
    tty2.read_until("P: ");
    tty2.type(" a b:c \n");
    CHECK(*asking.get().password == " a b:c ");
}

TEST_CASE("the terminal: end of input gives no password, and the echo is back") {
    pseudo_terminal tty;
    background_prompt asking(tty, "P: ", terminal_env(tty));
    tty.read_until("P: ");
    tty.type("\x04"); // Ctrl-D on an empty line
    auto a = asking.get();
    CHECK_FALSE(a.password);
    CHECK(contains(a.why_not, "no password typed"));
    CHECK(tty.echo_on());
}

TEST_CASE("the terminal: a password longer than the limit is refused, not cut") {
    pseudo_terminal tty;
    background_prompt asking(tty, "P: ", terminal_env(tty));
    tty.read_until("P: ");
    tty.type(std::string(max_password_bytes + 10, 'x') + "\n");
    auto a = asking.get();
    CHECK_FALSE(a.password);
    CHECK(contains(a.why_not, "longer than " + std::to_string(max_password_bytes)));
    CHECK(tty.echo_on());
}

TEST_CASE("the terminal: a signal ends the prompt only once the echo is back") {
    struct sigaction noting {
    }, saved{};
    noting.sa_handler = note_signal;
    ::sigemptyset(&noting.sa_mask);
    REQUIRE(::sigaction(SIGTERM, &noting, &saved) == 0);
    signal_seen = 0;
    {
        pseudo_terminal tty;
        background_prompt asking(tty, "P: ", terminal_env(tty));
        tty.read_until("P: ");
        REQUIRE_FALSE(tty.echo_on());
        ::pthread_kill(asking.native_handle(), SIGTERM);
        auto a = asking.get();
        CHECK_FALSE(a.password);
        CHECK(contains(a.why_not, "interrupted by a signal"));
        CHECK(tty.echo_on());
        // Held back while the terminal was changed, then delivered to the program's handler.
        CHECK(signal_seen == SIGTERM);
    }
    ::sigaction(SIGTERM, &saved, nullptr);
}

TEST_CASE("SSH_ASKPASS without a terminal: run with the prompt, its first line taken") {
    scratch_dir dir;
    // stdin must not be ours (it is the tunnel): reading it finds nothing.
    const auto program =
        dir.script("askpass", "if read -r line; then echo \"stdin:$line\"; exit; fi\n"
                              "printf 'got:%s\\r\\nsecond line\\n' \"$1\"");
    std::string why;
    auto password = ask_password("Password for alice at proxy p:3128: ", askpass_env(program), why);
    REQUIRE(password);
    CHECK(*password == "got:Password for alice at proxy p:3128: ");
}

TEST_CASE("SSH_ASKPASS: a cancelled dialog, a silent one, and a missing program") {
    scratch_dir dir;
    std::string why;

    auto cancelled = ask_password("P: ", askpass_env(dir.script("cancel", "exit 1")), why);
    CHECK_FALSE(cancelled);
    CHECK(contains(why, "exited with status 1"));

    auto env = askpass_env(dir.script("slow", "exec sleep 30"));
    env.askpass_timeout = 300ms;
    const auto start = std::chrono::steady_clock::now();
    auto slow = ask_password("P: ", env, why);
    CHECK_FALSE(slow);
    CHECK(contains(why, "gave no answer within 1 s"));
    CHECK(std::chrono::steady_clock::now() - start < 5s);

    auto missing = ask_password("P: ", askpass_env("/nonexistent/askpass"), why);
    CHECK_FALSE(missing);
    CHECK(contains(why, "cannot run SSH_ASKPASS program /nonexistent/askpass"));

    // A script whose program is missing: the shell's 127, said as the missing program above.
    const auto wrapper = dir.script("wrapper", "exec /nonexistent/askpass-helper");
    auto wrapped = ask_password("P: ", askpass_env(wrapper), why);
    CHECK_FALSE(wrapped);
    CHECK(contains(why, "cannot run SSH_ASKPASS program " + wrapper));
    CHECK(contains(why, "status 127"));
}

TEST_CASE("SSH_ASKPASS_REQUIRE: force and prefer go before the terminal, never turns it off") {
    scratch_dir dir;
    const auto program = dir.script("askpass", "echo from-askpass");
    std::string why;

    // force: no display needed, and the terminal is not touched.
    pseudo_terminal tty;
    auto forced = askpass_env(program);
    forced.tty_path = tty.path();
    forced.display = false;
    forced.askpass_require = "force";
    CHECK(*ask_password("P: ", forced, why) == "from-askpass");
    CHECK(tty.read_until("P: ", 200ms).empty());

    auto preferred = askpass_env(program);
    preferred.tty_path = tty.path();
    preferred.askpass_require = "PREFER";
    CHECK(*ask_password("P: ", preferred, why) == "from-askpass");

    // No display: the askpass program is not used, unless forced.
    auto no_display = askpass_env(program);
    no_display.display = false;
    CHECK_FALSE(ask_password("P: ", no_display, why));
    CHECK(contains(why, "needs DISPLAY or WAYLAND_DISPLAY"));

    auto never = askpass_env(program);
    never.askpass_require = "never";
    CHECK_FALSE(ask_password("P: ", never, why));
    CHECK(contains(why, "SSH_ASKPASS_REQUIRE=never"));
}

TEST_CASE("no terminal and no SSH_ASKPASS: nothing, and why") {
    prompt_env env;
    env.tty_path = "/nonexistent/tty";
    std::string why;
    CHECK_FALSE(ask_password("P: ", env, why));
    CHECK(why == "no terminal and no SSH_ASKPASS");

    // A file that is not a terminal is no terminal either.
    env.tty_path = "/dev/null";
    CHECK_FALSE(ask_password("P: ", env, why));
    CHECK(why == "no terminal (/dev/null is not one) and no SSH_ASKPASS");
}

TEST_CASE("prompt_env_from reads the askpass variables") {
    std::map<std::string, std::string> vars{
        {"SSH_ASKPASS", "/usr/bin/ask"}, {"SSH_ASKPASS_REQUIRE", "prefer"}, {"DISPLAY", ""}};
    auto lookup = [&](const char* name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    };
    auto env = prompt_env_from(lookup);
    CHECK(env.askpass == "/usr/bin/ask");
    CHECK(env.askpass_require == "prefer");
    CHECK_FALSE(env.display);
    CHECK(env.tty_path == default_tty_path);

    vars["WAYLAND_DISPLAY"] = "wayland-0";
    CHECK(prompt_env_from(lookup).display);
    vars.erase("WAYLAND_DISPLAY");
    vars["DISPLAY"] = ":0";
    CHECK(prompt_env_from(lookup).display);
}
