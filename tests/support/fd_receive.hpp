// Receiving a descriptor the program hands over with --fdpass, as ssh does.
#pragma once

namespace corkscrew_test {

// Receives a descriptor as ssh's mm_receive_fd() does: a one-byte read carrying exactly one
// SCM_RIGHTS descriptor, waiting at most `timeout_ms` for it (0: only if it is there already).
// -1 when none came: the sender closed its end, sent something else, or the time passed.
int receive_fd(int carrier, int timeout_ms);

} // namespace corkscrew_test
