#pragma once

#include <string>
#include <utility>
#include <variant>

namespace k3sjoin {

// Category of a failure, used for the exit code, the report and retry decisions.
enum class ErrorKind {
  usage,           // bad command line
  config,          // invalid inventory or option value
  connect,         // TCP connect or SSH handshake failed
  host_key,        // host key unknown, changed or not matching a pinned fingerprint
  auth,            // SSH authentication or sudo failed
  timeout,         // a remote step or the run deadline expired
  remote_command,  // a remote command ran and failed
  not_ready,       // a node did not turn Ready
  interrupted,     // SIGINT or SIGTERM
  internal,        // a bug or an unexpected local failure
};

// Returns the lower-case name of a kind, as printed in JSON reports ("host_key").
const char* to_string(ErrorKind kind);

// A failure with the facts an operator needs: what failed, on which value, and the fix.
// `message` never contains a secret; `hint` is empty when there is no useful fix to suggest.
struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
  std::string hint;
};

// The value of a step that can fail. C++20 has no std::expected, so this is a small variant.
template <typename T>
class Result {
 public:
  Result(T value) : state_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

// Result of a step that returns nothing on success.
struct Done {};
using Status = Result<Done>;

inline Status ok_status() { return Done{}; }

}  // namespace k3sjoin
