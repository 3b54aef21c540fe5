#include "k3sjoin/ssh/ssh_config.h"

#include <glob.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ssh_config_values.h"

namespace k3sjoin::ssh {
namespace {

// OpenSSH's READCONF_MAX_DEPTH (readconf.c, OpenSSH 9.2): deeper Include chains are errors.
constexpr int kMaxIncludeDepth = 16;

std::string lower(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

Error syntax_error(const std::string& origin, const std::string& text) {
  return Error{ErrorKind::config, origin + ": " + text,
               "fix the line, or pass another file with --ssh-config (none reads no file)"};
}

// Splits a line into words as OpenSSH's argv_split does: blanks separate words, double or
// single quotes group them, a backslash escapes a quote, backslash or blank, and an unquoted
// word that starts with '#' begins a comment. Returns nullopt for an unterminated quote.
std::optional<std::vector<std::string>> split_words(std::string_view line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) {
      ++i;
    }
    if (i == line.size() || line[i] == '#') {
      break;
    }
    std::string word;
    char quote = 0;
    for (; i < line.size(); ++i) {
      const char c = line[i];
      if (c == '\\' && i + 1 < line.size() &&
          (line[i + 1] == '"' || line[i + 1] == '\'' || line[i + 1] == '\\' ||
           (quote == 0 && line[i + 1] == ' '))) {
        word.push_back(line[++i]);
      } else if (quote != 0 && c == quote) {
        quote = 0;
      } else if (quote == 0 && (c == '"' || c == '\'')) {
        quote = c;
      } else if (quote == 0 && (c == ' ' || c == '\t' || c == '\r')) {
        break;
      } else {
        word.push_back(c);
      }
    }
    if (quote != 0) {
      return std::nullopt;
    }
    words.push_back(std::move(word));
  }
  return words;
}

// Separates "Keyword=value" and "Keyword = value" into keyword and arguments.
void split_keyword(std::vector<std::string>& words) {
  const std::size_t equals = words[0].find('=');
  if (equals != std::string::npos) {
    std::string value = words[0].substr(equals + 1);
    words[0].resize(equals);
    if (!value.empty()) {
      words.insert(words.begin() + 1, std::move(value));
    }
  } else if (words.size() > 1 && words[1].starts_with('=')) {
    words[1].erase(0, 1);
    if (words[1].empty()) {
      words.erase(words.begin() + 1);
    }
  }
}

bool read_file(const std::string& path, std::string& text) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    return false;
  }
  std::ostringstream buffer;
  buffer << stream.rdbuf();
  text = buffer.str();
  return true;
}

// Matches a pattern in which * and ? are wildcards, case-sensitively as OpenSSH's
// match_pattern does; the host name is lower-cased by the caller.
bool wildcard_match(std::string_view pattern, std::string_view text) {
  if (pattern.empty()) {
    return text.empty();
  }
  if (pattern.front() == '*') {
    for (std::size_t skip = 0; skip <= text.size(); ++skip) {
      if (wildcard_match(pattern.substr(1), text.substr(skip))) {
        return true;
      }
    }
    return false;
  }
  if (text.empty() || (pattern.front() != '?' && pattern.front() != text.front())) {
    return false;
  }
  return wildcard_match(pattern.substr(1), text.substr(1));
}

}  // namespace

bool host_patterns_match(const std::vector<std::string>& patterns, std::string_view host) {
  bool matched = false;
  for (std::string_view pattern : patterns) {
    const bool negated = pattern.starts_with('!');
    if (negated) {
      pattern.remove_prefix(1);
    }
    if (wildcard_match(pattern, host)) {
      if (negated) {
        return false;
      }
      matched = true;
    }
  }
  return matched;
}

std::string user_home_directory() {
  if (const passwd* entry = getpwuid(getuid()); entry != nullptr && entry->pw_dir != nullptr) {
    return entry->pw_dir;
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return home;
  }
  return "/";
}

std::string local_user_name() {
  if (const passwd* entry = getpwuid(getuid()); entry != nullptr && entry->pw_name != nullptr) {
    return entry->pw_name;
  }
  return std::to_string(getuid());
}

Result<SshConfig> SshConfig::load(const std::string& path, bool must_exist,
                                  const std::string& include_dir) {
  std::string text;
  if (!read_file(path, text)) {
    if (!must_exist && access(path.c_str(), F_OK) != 0) {
      return SshConfig{};
    }
    return Error{ErrorKind::config, "cannot read SSH config file " + path,
                 "check that the file exists and is readable, or pass --ssh-config none"};
  }
  return parse(text, path, include_dir);
}

Result<SshConfig> SshConfig::parse(std::string_view text, const std::string& origin,
                                   const std::string& include_dir) {
  SshConfig config;
  if (Status status = config.parse_into(text, origin, include_dir, {}, 0); !status) {
    return status.error();
  }
  return config;
}

void SshConfig::append(const SshConfig& other) {
  const int offset = static_cast<int>(blocks_.size());
  blocks_.insert(blocks_.end(), other.blocks_.begin(), other.blocks_.end());
  for (Line line : other.lines_) {
    for (int& guard : line.guards) {
      guard += offset;
    }
    lines_.push_back(std::move(line));
  }
}

Status SshConfig::parse_into(std::string_view text, const std::string& origin,
                             const std::string& include_dir, std::vector<int> guards, int depth) {
  // Lines before the first Host line of a file apply under the guards of the Include that
  // read it. A Host or Match line replaces only this file's own block.
  const std::vector<int> base = guards;
  int number = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    const std::string_view raw = text.substr(start, end - start);
    start = end + 1;
    ++number;
    const std::string where = origin + ":" + std::to_string(number);
    std::optional<std::vector<std::string>> words = split_words(raw);
    if (!words) {
      return syntax_error(where, "unterminated quote");
    }
    if (words->empty()) {
      continue;
    }
    split_keyword(*words);
    const std::string keyword = lower((*words)[0]);
    std::vector<std::string> arguments(words->begin() + 1, words->end());

    if (keyword == "host" || keyword == "match") {
      if (arguments.empty()) {
        return syntax_error(where, (*words)[0] + " needs at least one argument");
      }
      Block block;
      if (keyword == "host") {
        block.patterns = std::move(arguments);
      } else {
        spdlog::debug(
            "{}: Match is not supported; the lines up to the next Host or Match "
            "line are skipped",
            where);
      }
      blocks_.push_back(std::move(block));
      guards = base;
      guards.push_back(static_cast<int>(blocks_.size()) - 1);
      continue;
    }
    if (keyword == "include") {
      if (arguments.empty()) {
        return syntax_error(where, "Include needs at least one file name");
      }
      if (Status status = include(arguments, where, include_dir, guards, depth); !status) {
        return status;
      }
      continue;
    }
    if (Status status = detail::check_value(keyword, arguments, where); !status) {
      return status;
    }
    lines_.push_back(Line{keyword, std::move(arguments), where, guards});
  }
  return ok_status();
}

Status SshConfig::include(const std::vector<std::string>& patterns, const std::string& origin,
                          const std::string& include_dir, const std::vector<int>& guards,
                          int depth) {
  if (depth + 1 > kMaxIncludeDepth) {
    return syntax_error(origin, "Include nests deeper than " + std::to_string(kMaxIncludeDepth) +
                                    " files; check for an Include loop");
  }
  for (const std::string& pattern : patterns) {
    std::string path = pattern;
    if (path == "~" || path.starts_with("~/")) {
      path = user_home_directory() + path.substr(1);
    } else if (!path.starts_with("/")) {
      path = include_dir + "/" + path;
    }
    glob_t matches{};
    // As in OpenSSH, a pattern that matches no file is not an error.
    const int rc = glob(path.c_str(), 0, nullptr, &matches);
    std::vector<std::string> files;
    if (rc == 0) {
      files.assign(matches.gl_pathv, matches.gl_pathv + matches.gl_pathc);
    }
    globfree(&matches);
    for (const std::string& file : files) {
      std::string text;
      if (!read_file(file, text)) {
        return syntax_error(origin, "cannot read included file " + file);
      }
      spdlog::trace("{}: including {}", origin, file);
      if (Status status = parse_into(text, file, include_dir, guards, depth + 1); !status) {
        return status;
      }
    }
  }
  return ok_status();
}

HostConfig SshConfig::lookup(std::string_view host) const {
  const std::string name = lower(host);
  std::vector<char> matches(blocks_.size());
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    matches[i] = host_patterns_match(blocks_[i].patterns, name) ? 1 : 0;
  }
  HostConfig config;
  for (const Line& line : lines_) {
    const bool active = std::all_of(line.guards.begin(), line.guards.end(), [&](int guard) {
      return matches[static_cast<std::size_t>(guard)] != 0;
    });
    if (active) {
      detail::apply_value(config, line.keyword, line.arguments, line.origin, host);
    }
  }
  return config;
}

}  // namespace k3sjoin::ssh
