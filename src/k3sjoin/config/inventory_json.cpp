#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "inventory_rules.h"

namespace k3sjoin::config::detail {
namespace {

std::string escape_pointer_token(std::string_view token) {
  std::string escaped;
  for (char c : token) {
    if (c == '~') {
      escaped += "~0";
    } else if (c == '/') {
      escaped += "~1";
    } else {
      escaped.push_back(c);
    }
  }
  return escaped;
}

// Tracks the position inside the document while nlohmann's parser reports events, so that a
// repeated object key can be reported with its JSON pointer. nlohmann keeps the last value of
// a repeated key without complaint, which would hide a typo'd override.
class DuplicateKeyFinder {
 public:
  bool on_event(Json::parse_event_t event, const Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start:
        frames_.emplace_back();
        break;
      case Json::parse_event_t::array_start:
        frames_.emplace_back();
        frames_.back().array = true;
        break;
      case Json::parse_event_t::key:
        on_key(parsed.get<std::string>());
        break;
      case Json::parse_event_t::object_end:
      case Json::parse_event_t::array_end:
        if (!frames_.empty()) {
          frames_.pop_back();
        }
        next_element();
        break;
      case Json::parse_event_t::value:
        next_element();
        break;
    }
    return true;
  }

  const std::vector<std::pair<std::string, std::string>>& duplicates() const { return duplicates_; }

 private:
  struct Frame {
    bool array = false;
    std::size_t index = 0;
    std::string key;
    std::set<std::string> keys;
  };

  void on_key(const std::string& key) {
    if (frames_.empty()) {
      return;
    }
    Frame& top = frames_.back();
    top.key = key;
    if (!top.keys.insert(key).second) {
      std::string pointer;
      for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
        pointer =
            frames_[i].array ? child(pointer, frames_[i].index) : child(pointer, frames_[i].key);
      }
      duplicates_.emplace_back(pointer, key);
    }
  }

  void next_element() {
    if (!frames_.empty() && frames_.back().array) {
      ++frames_.back().index;
    }
  }

  std::vector<Frame> frames_;
  std::vector<std::pair<std::string, std::string>> duplicates_;
};

// Converts nlohmann's byte count (the number of bytes read when the error was found) into a
// 1-based line and column, counting columns in bytes.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t byte) {
  const std::size_t end = std::min(byte > 0 ? byte - 1 : 0, text.size());
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, end - line_start + 1};
}

// Strips "[json.exception.parse_error.101] parse error at line 1, column 2: " from what().
std::string parse_error_detail(const std::string& what) {
  const std::size_t column = what.find("column ");
  const std::size_t colon = what.find(": ", column == std::string::npos ? 0 : column);
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace

std::string child(const std::string& pointer, std::string_view key) {
  return pointer + "/" + escape_pointer_token(key);
}

std::string child(const std::string& pointer, std::size_t index) {
  return pointer + "/" + std::to_string(index);
}

Result<ParsedJson> parse_json(std::string_view text, const std::string& origin) {
  DuplicateKeyFinder finder;
  ParsedJson parsed;
  try {
    parsed.document =
        Json::parse(text, [&finder](int /*depth*/, Json::parse_event_t event, Json& value) {
          return finder.on_event(event, value);
        });
  } catch (const Json::parse_error& error) {
    const auto [line, column] = line_and_column(text, error.byte);
    return Error{ErrorKind::config,
                 origin + ":" + std::to_string(line) + ":" + std::to_string(column) +
                     ": invalid JSON: " + parse_error_detail(error.what()),
                 ""};
  } catch (const Json::exception& error) {
    // The parser also throws out_of_range for a number too large for a double, such as
    // 1e999; that exception carries no byte offset.
    const std::string what = error.what();
    const std::size_t prefix_end = what.find("] ");
    return Error{ErrorKind::config,
                 origin + ": invalid JSON: " +
                     (prefix_end == std::string::npos ? what : what.substr(prefix_end + 2)),
                 ""};
  }
  parsed.duplicates = finder.duplicates();
  return parsed;
}

}  // namespace k3sjoin::config::detail
