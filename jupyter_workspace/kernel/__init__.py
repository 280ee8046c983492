"""The workspace in a kernel: `%load_ext jupyter_workspace` registers `%workspace`."""
