"""The application as a library: a ``Session`` and one function per command, each returning a typed result (with
its ``warnings``): plain data, which ``emit`` (in the render layer) writes as a table, JSON, JSON Lines or CSV.

Import the functions from ``tracectl`` (``from tracectl import Session, search, triage``) or from their modules
(``tracectl.workflows.triage.triage``): several share their module's name, so this package does not re-export
them (after ``import tracectl.workflows.blame``, ``tracectl.workflows.blame`` is the module).
"""
