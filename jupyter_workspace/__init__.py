"""jupyter-workspace: notes, tasks, search, chat and agents beside your notebooks.

This module stays import-light: the Jupyter server imports it to discover the extension.
"""

from ._version import __version__


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyter-workspace"}]


def _jupyter_server_extension_points() -> list[dict[str, object]]:
    from .server.app import WorkspaceApp

    return [{"module": "jupyter_workspace.server.app", "app": WorkspaceApp}]


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext jupyter_workspace`: the `%workspace` / `%%workspace` magics."""
    from .kernel.magics import WorkspaceMagics

    ipython.register_magics(WorkspaceMagics)  # type: ignore[attr-defined]


__all__ = ["__version__", "load_ipython_extension"]
