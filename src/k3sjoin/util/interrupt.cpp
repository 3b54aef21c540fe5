#include "k3sjoin/util/interrupt.h"

#include <csignal>
#include <unistd.h>

#include <atomic>

namespace k3sjoin {
namespace {

std::atomic<int> signal_count{0};

extern "C" void on_signal(int signal_number) {
  int previous = signal_count.fetch_add(1);
  if (previous >= 1 && signal_number == SIGINT) {
    // Only async-signal-safe calls are allowed here.
    constexpr char kMessage[] = "\nk3sjoin: interrupted again, exiting now\n";
    ssize_t ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    (void)ignored;
    ::_exit(130);
  }
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  // A broken pipe on stdout must end the run through the write error, not kill it.
  signal(SIGPIPE, SIG_IGN);
}

bool interrupted() { return signal_count.load() > 0; }

void request_interrupt() { signal_count.store(1); }

void reset_interrupt() { signal_count.store(0); }

}  // namespace k3sjoin
