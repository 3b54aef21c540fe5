#include "k3sjoin/preflight/checks.h"
#include "k3sjoin/ssh/remote.h"

namespace k3sjoin::preflight {
namespace {

Finding make(std::string_view id, const HostProbe& host, Status status, std::string message,
             std::string evidence = {}, std::string fix = {}) {
  return Finding{std::string(id),    host.spec->name,     status,
                 std::move(message), std::move(evidence), std::move(fix)};
}

}  // namespace

std::vector<Finding> check_access(const HostProbe& host, std::string_view host_key_policy) {
  const config::HostSpec& spec = *host.spec;
  const std::string endpoint = ssh::format_endpoint(spec.address, spec.port);
  std::vector<Finding> findings;

  if (host.connect_error) {
    const Error& error = *host.connect_error;
    const std::string evidence =
        "connect to " + endpoint + " as " + spec.user + ": " + error.message;
    switch (error.kind) {
      case ErrorKind::host_key:
        findings.push_back(make(check::kHostKey, host, Status::fail,
                                "host key of " + endpoint + " not verified", evidence, error.hint));
        findings.push_back(make(check::kSsh, host, Status::skipped,
                                "not authenticated: the host key check failed first"));
        break;
      case ErrorKind::auth:
        findings.push_back(make(check::kHostKey, host, Status::pass,
                                "host key of " + endpoint + " matches known_hosts"));
        findings.push_back(make(check::kSsh, host, Status::fail,
                                "SSH authentication as " + spec.user + " failed", evidence,
                                error.hint.empty() ? "authorize the operator's key for " +
                                                         spec.user + " on " + spec.name
                                                   : error.hint));
        break;
      default:
        findings.push_back(make(
            check::kSsh, host, Status::fail, "cannot reach " + endpoint + " over SSH", evidence,
            error.hint.empty() ? "check that sshd runs on " + spec.name + " and that " + endpoint +
                                     " is reachable from this machine"
                               : error.hint));
        findings.push_back(make(check::kHostKey, host, Status::skipped,
                                "not checked: the SSH connection failed before the key exchange"));
        break;
    }
    findings.push_back(make(check::kSudo, host, Status::skipped, "not checked: no SSH session"));
    return findings;
  }

  findings.push_back(
      make(check::kSsh, host, Status::pass, "logged in to " + endpoint + " as " + spec.user));
  findings.push_back(make(check::kHostKey, host, Status::pass,
                          "host key verified (policy " + std::string(host_key_policy) + ")"));
  if (spec.user == "root") {
    findings.push_back(make(check::kSudo, host, Status::pass, "logged in as root; no sudo needed"));
  } else if (host.sudo_ok.value_or(false)) {
    findings.push_back(make(check::kSudo, host, Status::pass,
                            "sudo works without a prompt for " + spec.user,
                            "sudo -n true exited 0 (given the become password when one is set)"));
  } else {
    findings.push_back(
        make(check::kSudo, host, Status::fail, "sudo asks " + spec.user + " for a password",
             "sudo -n true failed" + (host.sudo_detail.empty() ? "" : ": " + host.sudo_detail),
             "allow passwordless sudo for " + spec.user + " on " + spec.name + " (a line \"" +
                 spec.user + " ALL=(ALL) NOPASSWD: ALL\" in /etc/sudoers.d/), or log in as root"));
  }
  return findings;
}

}  // namespace k3sjoin::preflight
