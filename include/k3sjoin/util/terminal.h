#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "k3sjoin/util/secret.h"

namespace k3sjoin {

// True when standard input is a terminal, which is when k3sjoin may prompt.
bool stdin_is_terminal();

// Writes `prompt` to the controlling terminal (/dev/tty), reads one line with echo off and
// restores the terminal, also when the read fails. Prompts from several threads are taken
// one at a time. Returns nullopt when stdin is not a terminal, /dev/tty cannot be opened,
// or the input ends before a newline. The line is returned without its newline.
std::optional<Secret> read_secret_from_terminal(std::string_view prompt);

}  // namespace k3sjoin
