// A scratch directory for tests that need real files (credential files with a given mode, fake
// askpass programs), removed with what it holds when the test ends.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace corkscrew_test {

class scratch_dir {
public:
    scratch_dir() {
        std::string tmpl = std::string(std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp") +
                           "/corkscrew-unit-XXXXXX";
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path_ = tmpl;
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir() {
        for (const auto& f : files_)
            ::unlink(f.c_str());
        ::rmdir(path_.c_str());
    }

    // Writes `name` with `contents` and `mode`, and returns its path.
    std::string file(const std::string& name, const std::string& contents, mode_t mode) {
        const std::string p = path_ + "/" + name;
        {
            std::ofstream out(p, std::ios::binary | std::ios::trunc);
            out << contents;
        }
        REQUIRE(::chmod(p.c_str(), mode) == 0);
        files_.push_back(p);
        return p;
    }

    // An executable shell script `name` with `body`.
    std::string script(const std::string& name, const std::string& body) {
        return file(name, "#!/bin/sh\n" + body + "\n", 0700);
    }

    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::vector<std::string> files_;
};

} // namespace corkscrew_test
