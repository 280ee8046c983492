"""The coordinator: the Jupyter server extension that owns the store, the events and the watcher."""
