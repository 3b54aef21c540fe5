"""Simulated k3s release binary for the k3sjoin lab.

The package imitates documented k3s behaviour (paths, file modes, token format, supervisor
endpoints, status codes and log lines) with the Python standard library and the openssl CLI.
"""
