"""The AI sidecar: a separate, disposable process for everything heavy (LLMs, later embeddings,
parsing and the vector index). Only the coordinator talks to it, over loopback HTTP with a
per-launch bearer token."""
