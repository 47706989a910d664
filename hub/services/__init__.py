"""Service functions: the hub's logic, callable without HTTP or the CLI."""
