"""Controller of the k3sjoin lab: namespaces, network, sshd, mirror, faults, state."""
