#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace k3sjoin {

// Quotes one word for POSIX sh: 'word', with each ' written as '\''. Every argument that
// k3sjoin puts into a remote command line goes through this function.
std::string shell_quote(std::string_view word);

// Joins words into a command line, quoting each one.
std::string shell_join(const std::vector<std::string>& words);

}  // namespace k3sjoin
