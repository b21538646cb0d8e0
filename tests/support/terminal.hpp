// A pseudo-terminal for a child's controlling terminal (spawn_options::controlling_tty): the test
// plays the user on the master side and looks at the terminal's modes through its own slave
// descriptor, which also keeps the master readable after the child has gone.
#pragma once

#include <string>
#include <string_view>

namespace corkscrew_test {

class pseudo_terminal {
public:
    pseudo_terminal();
    ~pseudo_terminal();
    pseudo_terminal(const pseudo_terminal&) = delete;
    pseudo_terminal& operator=(const pseudo_terminal&) = delete;

    // The slave's path, for spawn_options::controlling_tty.
    const std::string& slave_path() const { return slave_path_; }

    // What the child wrote to the terminal since the last call (never blocks).
    std::string read_available();
    // Type `bytes` on the terminal, as a user would.
    void type(std::string_view bytes);
    // Whether the terminal echoes what is typed (ECHO in its local modes).
    bool echoes() const;

private:
    int master_ = -1;
    int slave_ = -1;
    std::string slave_path_;
};

} // namespace corkscrew_test
