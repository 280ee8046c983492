"""Commands that run without a Jupyter server or a sidecar process (`jupyter workspace index`):
their own process, composing the server's file rules with the sidecar's index service. Neither
the server nor the sidecar imports this package."""
