#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "k3sjoin/phase/run_context.h"

namespace k3sjoin::phase {

// Waits for agents to turn Ready. One `kubectl get nodes -o json` on the server per poll
// interval covers every pending node, however many there are. A node counts as joined when
// it is Ready at the target version. When the server connection breaks, the watcher
// reconnects with backoff until the deadline.
class ReadyWatcher {
 public:
  explicit ReadyWatcher(RunContext& context) : context_(context) {}

  // Adds an agent whose install finished.
  void add(HostRun& host);

  // Announces that no more agents will be added.
  void close();

  // Polls until every added agent is resolved and close() was called, the deadline
  // passes, or the run is interrupted. Agents still pending then are marked failed
  // (deadline) or unknown (interrupted, or the server could not be read).
  void run();

 private:
  // Reads the node list and resolves the pending agents it shows Ready.
  void poll_once();
  bool reconnect_server();
  void resolve_leftovers();
  std::string describe(const std::string& node_name) const;

  RunContext& context_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<HostRun*> pending_;
  bool closed_ = false;
  bool server_read_once_ = false;
  std::map<std::string, std::string> last_seen_;  // node name -> last observed state
};

}  // namespace k3sjoin::phase
