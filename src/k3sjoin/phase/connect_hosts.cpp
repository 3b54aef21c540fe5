#include <spdlog/spdlog.h>

#include "k3sjoin/log/log.h"
#include "k3sjoin/phase/phases.h"
#include "k3sjoin/util/interrupt.h"
#include "k3sjoin/util/worker_pool.h"

namespace k3sjoin::phase {

void connect_hosts(RunContext& context) {
  auto& hosts = context.hosts();
  spdlog::info("connecting to {} hosts", hosts.size());
  run_parallel(
      hosts.size(), context.options().parallel,
      [&](std::size_t index) {
        HostRun& host = hosts[index];
        spdlog::debug("{}connecting as {}", log::host_prefix(host.label), host.spec->user);
        auto session = context.connector()(*host.spec);
        if (!session) {
          context.fail(host, session.error());
          return;
        }
        host.session = std::move(session).value();
        host.report.detail = "connected";
        spdlog::info("{}connected", log::host_prefix(host.label));
      },
      [] { return interrupted(); });
}

}  // namespace k3sjoin::phase
