// Preloaded into the program by tests: getaddrinfo() for names ending in ".slow.invalid" takes
// 30 seconds, as with a DNS server that does not answer, and creates the file named by
// SLOW_DNS_MARK first so the test knows the lookup has begun. Other names resolve as usual.
#include <cstdlib>
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <string_view>
#include <unistd.h>

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** res) {
    std::string_view name = node ? node : "";
    constexpr std::string_view slow = ".slow.invalid";
    if (name.size() > slow.size() && name.substr(name.size() - slow.size()) == slow &&
        !(hints && (hints->ai_flags & AI_NUMERICHOST))) {
        if (const char* mark = getenv("SLOW_DNS_MARK")) {
            int fd = ::open(mark, O_WRONLY | O_CREAT, 0600);
            if (fd >= 0)
                ::close(fd);
        }
        ::sleep(30);
        return EAI_AGAIN;
    }
    using real_t = int (*)(const char*, const char*, const addrinfo*, addrinfo**);
    static auto real = reinterpret_cast<real_t>(dlsym(RTLD_NEXT, "getaddrinfo"));
    return real(node, service, hints, res);
}
