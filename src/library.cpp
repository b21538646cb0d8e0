#include "library.hpp"

#include <map>
#include <memory>
#include <mutex>

#include <dlfcn.h>

namespace corkscrew {

result<const library*> library::open(const char* soname) {
    // Each library is opened at most once, and never closed: its functions may be in use until
    // the process ends, and a failed open would fail again the same way.
    static std::mutex guard;
    static std::map<std::string, result<const library*>> opened;
    std::lock_guard lock(guard);
    if (auto known = opened.find(soname); known != opened.end())
        return known->second;
    // RTLD_LOCAL: the library's symbols serve only the lookups here, never another library's.
    result<const library*> outcome = error{};
    if (void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL)) {
        outcome = new library(soname, handle);
    } else {
        const char* why = ::dlerror();
        outcome = fail(failure::internal,
                       "cannot load " + std::string(soname) + ": " + (why ? why : "unknown error"));
    }
    opened.emplace(soname, outcome);
    return outcome;
}

void* library::find(const char* name) const {
    return ::dlsym(handle_, name);
}

} // namespace corkscrew
