#pragma once

// Keyword rules of the SSH config reader, split out of ssh_config.cpp.

#include <string>
#include <string_view>
#include <vector>

#include "k3sjoin/ssh/ssh_config.h"
#include "k3sjoin/util/result.h"

namespace k3sjoin::ssh::detail {

// Checks the arguments of one keyword line (keyword in lower case). Unknown keywords pass,
// because the file is also read by ssh, which knows them. Errors name `origin` (FILE:LINE).
Status check_value(const std::string& keyword, const std::vector<std::string>& arguments,
                   const std::string& origin);

// Stores a checked line's value in `config` unless an earlier line already set it. `host` is
// the name being looked up, for %h in HostName.
void apply_value(HostConfig& config, const std::string& keyword,
                 const std::vector<std::string>& arguments, const std::string& origin,
                 std::string_view host);

}  // namespace k3sjoin::ssh::detail
