#pragma once

#include <string>

namespace k3sjoin::cli {

// True when stdin and stderr are terminals, so ask_yes_no() can ask.
bool can_prompt();

// Writes `question` and " [y/N] " to stderr and reads one line from stdin. Returns true
// only for "y" or "yes" (any case); end of input, an interrupt and anything else decline.
bool ask_yes_no(const std::string& question);

}  // namespace k3sjoin::cli
