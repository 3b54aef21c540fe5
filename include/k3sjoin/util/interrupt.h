#pragma once

namespace k3sjoin {

// Installs SIGINT and SIGTERM handlers. The first signal sets the interrupted flag, so
// running work stops starting new steps; a second SIGINT exits at once with status 130.
void install_interrupt_handlers();

// True once SIGINT or SIGTERM was received.
bool interrupted();

// Sets the flag as a signal would; for tests.
void request_interrupt();
void reset_interrupt();

}  // namespace k3sjoin
