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
// reconnects with backoff until the deadline. Agents that are not Ready yet get their
// journal read every few seconds, so a failure that retrying cannot fix (such as a
// rejected node password) ends their wait at once, with its cause.
class ReadyWatcher {
 public:
  explicit ReadyWatcher(RunContext& context) : context_(context) {}

  // Adds an agent whose install finished.
  void add(HostRun& host);

  // Announces that no more agents will be added.
  void close();

  // Polls until every added agent is resolved and close() was called, the deadline
  // passes, or the run is interrupted. Agents still pending then are marked failed with a
  // diagnosis (deadline), unknown (the server's node list could not be read at the end),
  // or joined or install-started after one last look at the node list (interrupted).
  void run();

 private:
  // Reads the node list and resolves the pending agents it shows Ready.
  void poll_once();
  // Reads the journals of agents that are due and fails those with a permanent failure.
  void check_journals();
  bool reconnect_server();
  void resolve_leftovers();
  void resolve_interrupted(const std::vector<HostRun*>& hosts);
  std::string describe(const std::string& node_name) const;

  RunContext& context_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<HostRun*> pending_;
  std::map<const HostRun*, Clock::time_point> next_journal_check_;
  bool closed_ = false;
  bool server_read_once_ = false;
  bool last_poll_ok_ = false;
  std::vector<kube::Node> last_nodes_;            // the node list of the last good poll
  std::map<std::string, std::string> last_seen_;  // node name -> last observed state
};

}  // namespace k3sjoin::phase
