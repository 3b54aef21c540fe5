#include "k3sjoin/phase/node_scripts.h"

#include "k3sjoin/util/shell.h"

namespace k3sjoin::phase {
namespace {

std::string node_secret_name(std::string_view node_name) {
  return std::string(node_name) + ".node-password.k3s";
}

}  // namespace

std::string journal_script(std::int64_t since) {
  std::string script = "journalctl -u k3s-agent -n 200 --no-pager";
  if (since > 0) {
    script += " --since @" + std::to_string(since);
  }
  return script + " 2>&1 || true";
}

std::string read_node_password_script() {
  return "cat " + shell_quote(kNodePasswordPath);
}

std::string node_password_hash_script(std::string_view node_name) {
  return "k3s kubectl get secret -n kube-system " + shell_quote(node_secret_name(node_name)) +
         " --ignore-not-found -o 'jsonpath={.data.hash}'";
}

std::string delete_node_script(std::string_view node_name) {
  return "k3s kubectl delete node " + shell_quote(node_name) +
         " --ignore-not-found\n"
         "k3s kubectl delete secret -n kube-system " +
         shell_quote(node_secret_name(node_name)) + " --ignore-not-found\n";
}

std::string uninstall_agent_script() {
  std::string path = shell_quote(kAgentUninstallPath);
  return "if [ -x " + path + " ]; then " + path + " && echo uninstalled; else echo absent; fi";
}

std::string stop_install_script(std::string_view run_id) {
  // dash's kill builtin takes no negative process group ids, so procps' /bin/kill does it.
  // The group id is checked to be a number above 1, because `kill -- -1` would signal
  // every process.
  std::string pattern = "/tmp/k3sjoin-" + std::string(run_id) + ".*";
  return "found=no\n"
         "for round in 1 2; do\n"
         "  for dir in " +
         pattern +
         "; do\n"
         "    [ -d \"$dir\" ] || continue\n"
         "    found=yes\n"
         "    group=$(cat \"$dir/pgid\" 2>/dev/null || true)\n"
         "    case \"$group\" in ''|*[!0-9]*) group=0 ;; esac\n"
         "    if [ \"$group\" -gt 1 ]; then\n"
         "      /bin/kill -s TERM -- \"-$group\" 2>/dev/null || true\n"
         "      i=0\n"
         "      while [ $i -lt 50 ] && /bin/kill -s 0 -- \"-$group\" 2>/dev/null; do\n"
         "        sleep 0.1; i=$((i + 1))\n"
         "      done\n"
         "      /bin/kill -s KILL -- \"-$group\" 2>/dev/null || true\n"
         "    fi\n"
         "    rm -rf \"$dir\"\n"
         "  done\n"
         "  [ \"$found\" = yes ] && break\n"
         "  [ \"$round\" = 1 ] && sleep 1\n"
         "done\n"
         "if [ -x /usr/local/bin/k3s ]; then echo k3s=yes; else echo k3s=no; fi\n"
         "if systemctl is-active --quiet k3s-agent 2>/dev/null; then echo active=yes; "
         "else echo active=no; fi\n";
}

std::string service_active_script(std::string_view unit) {
  return "if systemctl is-active --quiet " + shell_quote(unit) +
         " 2>/dev/null; then echo active=yes; else echo active=no; fi";
}

}  // namespace k3sjoin::phase
