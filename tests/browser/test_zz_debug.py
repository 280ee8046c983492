import pytest
from playwright.sync_api import expect
from tests.browser.test_chat_ui import *  # noqa

pytestmark = [pytest.mark.browser]

def test_debug(context, lab_server, llm):
    wait_for_sidecar(lab_server)
    llm.tokens, llm.delay = ["a ", "b ", "```python\n", "x = 1\n", "```\n", "END."], 0.05
    page = context.new_page()
    logs = []
    page.on("console", lambda m: logs.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: logs.append(f"pageerror: {e}"))
    open_lab(page, lab_server)
    open_chat(page)
    ask(page, "hi")
    page.wait_for_timeout(3000)
    print("\n".join(l for l in logs if "error" in l.lower() or "warn" in l.lower())[:5000])
    print(page.locator(".jp-Workspace-chat").inner_html()[:3000])
