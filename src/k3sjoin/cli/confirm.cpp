#include "k3sjoin/cli/confirm.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <mutex>

namespace k3sjoin::cli {

bool can_prompt() {
  return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDERR_FILENO) == 1;
}

bool ask_yes_no(const std::string& question) {
  // Hosts are worked on in parallel, so two questions must not interleave.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) {
    std::cerr << '\n';
    return false;
  }
  std::transform(answer.begin(), answer.end(), answer.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return answer == "y" || answer == "yes";
}

}  // namespace k3sjoin::cli
