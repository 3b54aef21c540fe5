#include <sys/prctl.h>
#include <sys/resource.h>

#include "k3sjoin/cli/app.h"

namespace {

// Runs before anything reads a secret. A non-dumpable process gets no core dump, and other
// processes of the same user can neither attach to it with ptrace nor read its
// /proc/PID/mem, so they cannot copy the join token or the sudo password out of memory.
// With fs.suid_dumpable=2 the kernel still writes a root-owned core of a non-dumpable
// process; the core size limit of 0 stops that for file patterns. Failures are ignored,
// because both calls only narrow access and k3sjoin works without them.
void harden_process() {
  (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  const rlimit no_core{0, 0};
  (void)setrlimit(RLIMIT_CORE, &no_core);
}

}  // namespace

int main(int argc, char** argv) {
  harden_process();
  return k3sjoin::cli::run(argc, argv);
}
