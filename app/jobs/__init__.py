"""RQ entry points and the worker that runs them (see DESIGN.md: jobs run in-process)."""
