"""Seed the demo workspace: a note from each notes/*.md, and workspace.toml trusted.

    python3 seed_notes.py                              # the server the magics would find
    python3 seed_notes.py --url http://127.0.0.1:8888/ --token TOKEN
    python3 seed_notes.py --wait 120 --wait-index      # for a server that is starting

Idempotent: a note whose title exists already is left as it is (so a user's edits survive a
second run), and a trusted workspace.toml is not trusted again. A note's title is the first
line of its file (without the `# `), its body the rest. Trusting runs nothing: it lets the
pipelines of this exact workspace.toml run when someone asks (Binder's user is the only user).

The server: --url/--token; else JUPYTER_WORKSPACE_URL (+ JUPYTER_WORKSPACE_TOKEN); else the
running Jupyter server, found as the %workspace magics find it (jupyter_workspace's client,
when it is importable). Standard library only otherwise. Exit status 0 when all is seeded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

API = "workspace/api/"
HERE = Path(__file__).resolve().parent


class Api:
    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/") + "/"
        self.token = token
        # the server is on this machine: no proxy (it would see the token)
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __call__(self, method: str, path: str, body: object = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + API + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"token {self.token}")
        with self.opener.open(request, timeout=30) as response:
            raw = response.read()
            return json.loads(raw) if raw else None


def find(url: str | None, token: str | None) -> Api:
    if url:
        return Api(url, token or "")
    if os.environ.get("JUPYTER_WORKSPACE_URL"):
        return Api(
            os.environ["JUPYTER_WORKSPACE_URL"], os.environ.get("JUPYTER_WORKSPACE_TOKEN", "")
        )
    try:
        from jupyter_workspace.kernel.client import find_server
    except ImportError:
        sys.exit("no server given: --url URL --token TOKEN (or JUPYTER_WORKSPACE_URL)")
    server = find_server()
    return Api(server.url, server.token)


def wait_for(api: Api, seconds: float, index: bool) -> None:
    """Until the server answers (and, with `index`, its index is idle) or `seconds` pass."""
    deadline = time.monotonic() + seconds
    state = None
    while True:
        try:
            state = api("GET", "index")["state"] if index else api("GET", "status") and "up"
            if state in ("up", "idle", "off"):
                return
            if state == "failed":
                sys.exit("the workspace's index failed: see the server's log")
        except (urllib.error.URLError, OSError) as e:
            if isinstance(e, urllib.error.HTTPError) and e.code in (401, 403):
                raise
            state = f"not answering ({getattr(e, 'reason', e)})"
        if time.monotonic() > deadline:
            sys.exit(f"gave up waiting for the workspace: {state}")
        time.sleep(1)


def read_note(path: Path) -> tuple[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    title = lines[0].lstrip("#").strip() if lines else path.stem
    return title or path.stem, "\n".join(lines[1:]).strip() + "\n"


def seed_notes(api: Api, folder: Path) -> None:
    titles = {note["title"] for note in api("GET", "notes")["notes"]}
    for path in sorted(folder.glob("*.md")):
        title, body = read_note(path)
        if title in titles:
            print(f"note exists: {title}")
            continue
        note = api("POST", "notes", {"title": title, "body": body})
        titles.add(title)
        print(f"note {note['id']} added: {title}")


def trust(api: Api) -> None:
    config = api("GET", "pipelines")["config"]
    if not config.get("exists"):
        print("no workspace.toml in the served folder: nothing to trust")
        return
    if config.get("error"):
        sys.exit(f"workspace.toml is invalid: {config['error']}")
    if config.get("trusted"):
        print("workspace.toml is trusted already")
        return
    api("POST", "pipelines/trust", {"hash": config["hash"]})
    print(f"workspace.toml trusted (sha256 {config['hash'][:12]}…)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="the Jupyter server's URL (with its base URL)")
    parser.add_argument("--token", help="its token")
    parser.add_argument("--notes", type=Path, default=HERE / "notes", help="folder of .md notes")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for the server")
    parser.add_argument("--wait-index", action="store_true", help="also wait until it is indexed")
    parser.add_argument("--no-trust", action="store_true", help="leave workspace.toml untrusted")
    args = parser.parse_args(argv)
    api = find(args.url, args.token)
    try:
        if args.wait or args.wait_index:
            wait_for(api, args.wait or 600, args.wait_index)
        seed_notes(api, args.notes)
        if not args.no_trust:
            trust(api)
    except urllib.error.HTTPError as e:
        try:
            message = json.loads(e.read() or b"{}").get("error") or e.reason
        except ValueError:
            message = e.reason
        sys.exit(f"{e.code} from {e.url}: {message}")
    except (urllib.error.URLError, OSError) as e:
        sys.exit(f"no workspace answers at {api.url}: {getattr(e, 'reason', e)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
