#include "k3sjoin/util/shell.h"

namespace k3sjoin {

std::string shell_quote(std::string_view word) {
  // Inside single quotes POSIX sh treats every byte literally, including $, `, \ and
  // newlines, so only the single quote itself needs the close-escape-reopen sequence.
  std::string quoted;
  quoted.reserve(word.size() + 2);
  quoted.push_back('\'');
  for (char c : word) {
    if (c == '\'') {
      quoted.append("'\\''");
    } else {
      quoted.push_back(c);
    }
  }
  quoted.push_back('\'');
  return quoted;
}

std::string shell_join(const std::vector<std::string>& words) {
  std::string line;
  for (const std::string& word : words) {
    if (!line.empty()) {
      line.push_back(' ');
    }
    line.append(shell_quote(word));
  }
  return line;
}

}  // namespace k3sjoin
