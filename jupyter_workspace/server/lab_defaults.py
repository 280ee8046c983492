"""JupyterLab's defaults as `jupyter workspace` starts it: no "Would you like to get notified
about official Jupyter news?" pop-up over the workspace on a first start.

They are *default* setting overrides: `labconfig/default_setting_overrides.json` in a Jupyter
config directory (`lab_defaults/`, shipped with the package), which jupyterlab_server's settings
API lays over the schemas' defaults. Whatever the user sets (Settings editor, their own
settings files) still wins, and nothing is written to their settings. Plain `jupyter lab` keeps
JupyterLab's own defaults: only the `jupyter workspace` command puts the directory on
JUPYTER_CONFIG_PATH.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

LAB_DEFAULTS_DIR = Path(__file__).parent / "lab_defaults"


def use_lab_defaults(environ: MutableMapping[str, str] = os.environ) -> None:
    """Add LAB_DEFAULTS_DIR to JUPYTER_CONFIG_PATH, after the entries already there (the
    user's, which keep their priority). Kernels and terminals inherit it: the directory holds
    nothing but the lab defaults."""
    entries = [entry for entry in environ.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if entry]
    if str(LAB_DEFAULTS_DIR) not in entries:
        entries.append(str(LAB_DEFAULTS_DIR))
    environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(entries)
