"""The trivium benchmark harness: app registry, server control, checks, load, report."""
