"""Test support shipped with justdriving: wire-level simulators of the providers."""
