#include "library.hpp"

#include <map>
#include <memory>
#include <mutex>

#include <dlfcn.h>

namespace corkscrew {

result<const library*> library::open(const char* soname) {
    // Each library is opened at most once, and never closed: its functions may be in use until
    // the process ends, and a failed open would fail again the same way.
    struct entry {
        std::unique_ptr<library> opened;
        error failed;
    };
    static std::mutex guard;
    static std::map<std::string, entry> known;
    std::lock_guard lock(guard);
    auto it = known.find(soname);
    if (it == known.end()) {
        entry e;
        // RTLD_LOCAL: the library's symbols serve only the lookups here, never another library's.
        if (void* handle = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL)) {
            e.opened.reset(new library(soname, handle));
        } else {
            const char* why = ::dlerror();
            e.failed = fail(failure::internal, "cannot load " + std::string(soname) + ": " +
                                                   (why ? why : "unknown error"));
        }
        it = known.emplace(soname, std::move(e)).first;
    }
    if (it->second.opened)
        return it->second.opened.get();
    return it->second.failed;
}

void* library::find(const char* name) const {
    return ::dlsym(handle_, name);
}

} // namespace corkscrew
