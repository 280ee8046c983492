"""Pipelines: named commands from `workspace.toml`, run in real PTYs, watched as they stream.

A run is a terminado terminal in jupyter_server's own terminal manager (so JupyterLab can show
it, input included, while it runs). The manager adds a client of its own to the terminal: it
keeps a bounded tail of the output, follows it with a cursor for readers, and feeds each line
to the failure parser. When the PTY closes, the run is recorded (exit code, duration, the tail,
the failures) and its failures become detected tasks, resolved when a later run passes.

Anyone who can write files can write `workspace.toml`, but only a user allowed to run terminals
(`terminals` + `execute`) may start its commands. So nothing in it runs (by hand, by magic or
by watch mode) until such a user has trusted its exact content: the SHA-256 of the approved
bytes is kept in the database, and any other content, including a file that was there before
the server started, waits for a new approval. A run checks the bytes it is about to run.

config.py parses and hashes the file, runs.py is one run, manager.py is `PipelineManager`.
"""

from .manager import PipelineManager

__all__ = ["PipelineManager"]
