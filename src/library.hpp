// Libraries that only some runs need, loaded when first needed instead of at start.
//
// GSSAPI (for Negotiate) and libcrypto (for Digest's hashes) would bring a dozen shared objects
// into every run, doubling start-up time and the memory a plain tunnel holds (bench/run's
// start-up and peak RSS columns). Most runs never see a 407 with those schemes, so each is opened
// with dlopen(3) the first time it is used, and stays loaded for the rest of the run.
#pragma once

#include "error.hpp"

#include <string>

namespace corkscrew {

class library {
public:
    // Opens the library by its soname (the name the build found, e.g. "libcrypto.so.3") once per
    // process; later calls return the same library, or the same error.
    static result<const library*> open(const char* soname);

    // The address of `name`, or nullptr when the library has no such symbol.
    void* find(const char* name) const;

    // Looks up `name` as a function of the type of `f` (declared by the library's own header, so
    // the compiler checks every call) and stores it there; false when it is missing.
    template <class F>
    bool bind(F*& f, const char* name) const {
        f = reinterpret_cast<F*>(find(name));
        return f != nullptr;
    }

    const std::string& soname() const { return soname_; }

private:
    library(std::string soname, void* handle) : soname_(std::move(soname)), handle_(handle) {}

    std::string soname_;
    void* handle_;
};

} // namespace corkscrew
