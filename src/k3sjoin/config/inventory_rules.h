#pragma once

// Value rules of the inventory format, shared by the loader in inventory.cpp. Each *_problem
// function returns an empty string for a valid value, otherwise the text that follows the
// quoted value in an error message: the broken rule and the fix.

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "k3sjoin/util/result.h"

namespace k3sjoin::config::detail {

// Keys keep their file order, so errors come out in the order of the file.
using Json = nlohmann::ordered_json;

struct ParsedJson {
  Json document;
  std::vector<std::pair<std::string, std::string>> duplicates;  // (object pointer, key)
};

// Parses inventory text. A syntax error gives "<origin>:<line>:<column>: invalid JSON: ...".
// Repeated keys do not fail the parse but are listed in `duplicates`.
Result<ParsedJson> parse_json(std::string_view text, const std::string& origin);

// Appends one reference token to a JSON pointer, escaping "~" and "/".
std::string child(const std::string& pointer, std::string_view key);
std::string child(const std::string& pointer, std::size_t index);

// A JSON string literal of `text`, cut to about 60 characters so one line stays readable.
std::string quote(std::string_view text);

// A JSON value as it appears in a message: strings quoted, containers abbreviated.
std::string describe(const Json& value);

// "a string", "an array", "null", ... for "X is <type>, expected ..." messages.
std::string type_phrase(const Json& value);

// Returns the entry of `known` nearest to `key` by edit distance, ignoring case, "_" and
// "-". The result is empty when no entry is close enough to be a likely typo.
std::string_view closest_key(std::string_view key, std::span<const std::string_view> known);

std::string node_name_problem(std::string_view name);
std::string address_problem(std::string_view address);
std::string login_name_problem(std::string_view user);
std::string version_problem(std::string_view version);
std::string install_url_problem(std::string_view url);
std::string host_key_problem(std::string_view fingerprint);
std::string env_name_problem(std::string_view name);

// Checks one extraArgs element and returns the whole message text, subject included. Flags
// that k3sjoin sets itself (--token, --server, --node-name, --node-ip and their aliases) are
// named without their value, because the value may be a join token. `after_owned_flag` marks
// the element that follows such a flag, which is then its value and is not echoed either.
std::string extra_arg_problem(std::string_view argument, bool after_owned_flag);
bool is_owned_flag(std::string_view argument);

bool is_ip_literal(std::string_view text);

// The form used to compare addresses: canonical text for IP literals, lower case otherwise.
std::string canonical_address(std::string_view address);

}  // namespace k3sjoin::config::detail
