// Preloaded into the program by tests, this getaddrinfo() fakes three kinds of names:
// - names ending in ".slow.invalid" take 30 seconds, as with a DNS server that does not answer,
//   and create the file named by SLOW_DNS_MARK first so the test knows the lookup has begun;
// - names ending in ".multi.invalid" resolve to the numeric addresses listed, in order, in
//   MULTI_DNS_ADDRS ("127.0.0.2,::1"), as a name with several A/AAAA records does;
// - names ending in ".nx.invalid" do not exist (EAI_NONAME), as a resolver answers for any name
//   under .invalid (RFC 6761), without the wait for a DNS server that a test machine may lack.
// Other names resolve as usual.
#include <cstdlib>
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <string>
#include <string_view>
#include <unistd.h>

namespace {

using real_t = int (*)(const char*, const char*, const addrinfo*, addrinfo**);

real_t real_getaddrinfo() {
    static auto real = reinterpret_cast<real_t>(dlsym(RTLD_NEXT, "getaddrinfo"));
    return real;
}

bool ends_with(std::string_view name, std::string_view suffix) {
    return name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
}

// Each address resolved on its own as a numeric host and the results chained: glibc's
// freeaddrinfo() frees node by node, so the chain is freed like one answer.
int several_addresses(const char* service, const addrinfo* hints, addrinfo** res) {
    const char* list = getenv("MULTI_DNS_ADDRS");
    if (!list)
        return EAI_NONAME;
    addrinfo numeric{};
    if (hints)
        numeric = *hints;
    numeric.ai_flags |= AI_NUMERICHOST;
    addrinfo* head = nullptr;
    addrinfo** tail = &head;
    std::string_view rest = list;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string address(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        addrinfo* one = nullptr;
        if (real_getaddrinfo()(address.c_str(), service, &numeric, &one) != 0)
            continue; // a family the hints exclude
        *tail = one;
        while (*tail)
            tail = &(*tail)->ai_next;
    }
    if (!head)
        return EAI_NONAME;
    *res = head;
    return 0;
}

} // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                           addrinfo** res) {
    std::string_view name = node ? node : "";
    if (ends_with(name, ".slow.invalid") && !(hints && (hints->ai_flags & AI_NUMERICHOST))) {
        if (const char* mark = getenv("SLOW_DNS_MARK")) {
            int fd = ::open(mark, O_WRONLY | O_CREAT, 0600);
            if (fd >= 0)
                ::close(fd);
        }
        ::sleep(30);
        return EAI_AGAIN;
    }
    if (ends_with(name, ".multi.invalid"))
        return several_addresses(service, hints, res);
    if (ends_with(name, ".nx.invalid"))
        return EAI_NONAME;
    return real_getaddrinfo()(node, service, hints, res);
}
