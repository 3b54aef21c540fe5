#include "k3sjoin/util/result.h"

namespace k3sjoin {

const char* to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage:
      return "usage";
    case ErrorKind::config:
      return "config";
    case ErrorKind::connect:
      return "connect";
    case ErrorKind::host_key:
      return "host_key";
    case ErrorKind::auth:
      return "auth";
    case ErrorKind::timeout:
      return "timeout";
    case ErrorKind::remote_command:
      return "remote_command";
    case ErrorKind::not_ready:
      return "not_ready";
    case ErrorKind::interrupted:
      return "interrupted";
    case ErrorKind::internal:
      return "internal";
  }
  // Reached only for a value cast from an integer outside the enum.
  return "internal";
}

}  // namespace k3sjoin
