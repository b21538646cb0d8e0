// Runs a fuzz target's LLVMFuzzerTestOneInput over inputs kept in files, without libFuzzer: the
// seed corpus and the crashers kept as regressions become an ordinary test of every build.
//
//   fuzz_answer_replay DIR_OR_FILE...
//
// A directory stands for the files in it (sorted, so runs are alike); a directory that does not
// exist is skipped, as regressions/<target>/ exists only once something was found. Fails when no
// input at all was run, so a wrong path cannot pass unnoticed. A broken invariant aborts.
#include "fuzz_support.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

namespace fs = std::filesystem;

// Defined by the targets that set up their environment first (libFuzzer calls it too).
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

bool run_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::cerr << "replay: cannot read " << path << "\n";
        return false;
    }
    // Exactly as long as the input, so that ASan sees a read past its end.
    const std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(in)),
                                         std::istreambuf_iterator<char>());
    std::cout << "replay: " << path.string() << " (" << data.size() << " bytes)" << std::endl;
    LLVMFuzzerTestOneInput(data.data(), data.size());
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    std::size_t ran = 0;
    bool ok = true;
    for (int i = 1; i < argc; ++i) {
        const fs::path arg = argv[i];
        std::error_code ec;
        if (fs::is_directory(arg, ec)) {
            std::vector<fs::path> files;
            for (const auto& entry : fs::directory_iterator(arg))
                if (entry.is_regular_file())
                    files.push_back(entry.path());
            std::sort(files.begin(), files.end());
            for (const auto& f : files) {
                ok = run_file(f) && ok;
                ++ran;
            }
        } else if (fs::exists(arg, ec)) {
            ok = run_file(arg) && ok;
            ++ran;
        } else {
            std::cout << "replay: " << arg.string() << " does not exist; skipped" << std::endl;
        }
    }
    std::cout << "replay: " << ran << " inputs" << std::endl;
    if (ran == 0) {
        std::cerr << "replay: no input found in the arguments\n";
        return 1;
    }
    return ok ? 0 : 1;
}
