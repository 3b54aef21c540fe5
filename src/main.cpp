#include "k3sjoin/cli/app.h"

int main(int argc, char** argv) { return k3sjoin::cli::run(argc, argv); }
