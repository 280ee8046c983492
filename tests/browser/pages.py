"""What a user does in JupyterLab, as the browser tests do it: load the page, show a panel, ask
in the chat, run a notebook cell. One copy here, so a changed selector is changed once.

Selectors are the stable DOM hooks documented in labextension/README.md.
"""

from __future__ import annotations

import json
import re
import urllib.request

from playwright.sync_api import Locator, Page, expect

SIDEBAR_TAB = 'li[data-id="jupyter-workspace:sidebar"]'
SEARCH_TAB = 'li[data-id="jupyter-workspace:search"]'
CHAT_TAB = 'li[data-id="jupyter-workspace:chat"]'
PIPELINES_TAB = 'li[data-id="jupyter-workspace:pipelines"]'
PROBLEMS_TAB = 'li[data-id="jupyter-workspace:problems"]'
ANSWER = '.jp-Workspace-chatMessage[data-role="assistant"]'
QUESTION = '.jp-Workspace-chatMessage[data-role="user"]'
TASK = ".jp-Workspace-taskItem"
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
# A kernel's start, or a call to the sidecar from the kernel, on a slow machine.
KERNEL_TIMEOUT_MS = 60_000


# -- JupyterLab ------------------------------------------------------------------------------
def open_lab(page: Page, server, path: str = "") -> None:
    """Load JupyterLab (fresh layout; optionally opening a file) and wait until it is ready."""
    route = f"/lab/tree/{path}" if path else "/lab"
    page.goto(f"{server.url}{route}?reset&token={server.token}")
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=60_000)
    page.locator(SIDEBAR_TAB).wait_for(timeout=30_000)
    # The restored layout activates (and focuses) its main-area widget: let that happen
    # before typing anywhere.
    page.locator(".jp-FileEditor" if path else ".jp-Launcher").first.wait_for(timeout=30_000)


def open_panel(page: Page, tab_selector: str, panel_selector: str) -> None:
    """Show a sidebar panel (a click on its tab when it is not the current one)."""
    tab = page.locator(tab_selector)
    panel = page.locator(panel_selector)
    tab.wait_for(timeout=30_000)
    for _ in range(20):
        if panel.is_visible():
            return
        if "lm-mod-current" not in (tab.get_attribute("class") or ""):
            tab.click()
        page.wait_for_timeout(250)
    expect(panel).to_be_visible()


def run_command(page: Page, label: str) -> None:
    """Run a command by its label from the command palette (Ctrl+Shift+C), as a user would."""
    page.keyboard.press("Control+Shift+c")
    palette = page.locator(".lm-CommandPalette-input")
    palette.fill(label)
    palette.press("Enter")


def editor_tab(page: Page, name: str) -> Locator:
    """The current main-area tab, if its label holds `name`."""
    return page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text=name)


def show_tab(page: Page, name: str) -> None:
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=name).click()
    expect(editor_tab(page, name)).to_be_visible()


def expect_cursor_at(page: Page, line: int, column: int = 1) -> None:
    """The status bar reports the editor's cursor position."""
    expect(page.get_by_text(re.compile(rf"^Ln {line}, Col {column}$"))).to_be_visible()


def menu(page: Page, name: str, item: str) -> None:
    page.locator(".lm-MenuBar-item", has_text=name).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


# -- the workspace's panels ------------------------------------------------------------------
def open_workspace(page: Page) -> None:
    """Show the Workspace sidebar (notes and tasks)."""
    open_panel(page, SIDEBAR_TAB, ".jp-Workspace-notes")


def open_search(page: Page) -> None:
    open_panel(page, SEARCH_TAB, ".jp-Workspace-search")


def open_chat(page: Page) -> None:
    open_panel(page, CHAT_TAB, ".jp-Workspace-chat")


def open_pipelines(page: Page) -> None:
    open_panel(page, PIPELINES_TAB, ".jp-Workspace-pipelines")


def open_problems(page: Page) -> None:
    open_panel(page, PROBLEMS_TAB, ".jp-Workspace-problems")


def note_item(page: Page, title: str) -> Locator:
    return page.locator(".jp-Workspace-noteItem", has_text=title)


def create_note(page: Page, title: str, body: str) -> None:
    page.locator(".jp-Workspace-newNote").click()
    title_input = page.locator(".jp-Workspace-noteTitle")
    expect(title_input).to_be_focused()
    title_input.fill(title)
    page.locator(".jp-Workspace-noteBody").fill(body)
    expect(page.locator(".jp-Workspace-saveState")).to_have_attribute("data-state", "saved")
    expect(note_item(page, title)).to_have_count(1)


def detected_task(page: Page, path: str) -> Locator:
    """The detected task whose link points into `path`."""
    return page.locator(
        f'{TASK}[data-origin="detected"]:has(.jp-Workspace-taskSource[data-path="{path}"])'
    )


def ask(page: Page, question: str) -> None:
    """Send `question` from the Chat panel's input; it shows as the user's message."""
    chat_input = page.locator(".jp-Workspace-chatInput")
    chat_input.fill(question)
    chat_input.press("Enter")
    expect(chat_input).to_have_value("")
    expect(page.locator(QUESTION, has_text=question)).to_have_count(1)


# -- notebooks -------------------------------------------------------------------------------
def new_python_notebook(page: Page) -> None:
    """A new notebook from the launcher, with the python3 kernel, once the kernel is idle."""
    page.locator('.jp-LauncherCard[data-category="Notebook"]', has_text="Python 3").click()
    expect(page.locator(".jp-NotebookPanel")).to_be_visible()
    wait_for_idle_kernel(page)


def wait_for_idle_kernel(page: Page) -> None:
    """The status bar's kernel status (the toolbar's indicator says idle before there is a
    kernel, and a cell run then would start a second one)."""
    expect(page.get_by_text(re.compile(r"^Python 3 \(ipykernel\) \| Idle$"))).to_be_visible(
        timeout=KERNEL_TIMEOUT_MS
    )


def run_cell(page: Page, code: str) -> Locator:
    """Type `code` into the notebook's last cell, run it, wait until it is done; the cell."""
    cells = page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell")
    index = cells.count() - 1
    cell = cells.nth(index)
    cell.locator(".cm-content").click()
    # Inserted, not typed: the editor would close the quotes and brackets as they are typed.
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    expect(cells).to_have_count(index + 2)
    expect(cell.locator(".jp-InputPrompt")).to_have_text(
        re.compile(r"^\[\d+\]:$"), timeout=KERNEL_TIMEOUT_MS
    )
    return cell


def expect_no_error(cell: Locator) -> None:
    errors = cell.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    expect(errors).to_have_count(0)


# -- themes ----------------------------------------------------------------------------------
def set_theme(lab_server, name: str) -> None:
    """The theme a user chose in Settings → Theme (`light` / `dark`), for the next page load."""
    put = urllib.request.Request(
        f"{lab_server.url}/lab/api/settings/@jupyterlab/apputils-extension:themes",
        data=json.dumps({"raw": json.dumps({"theme": THEMES[name]})}).encode(),
        method="PUT",
        headers={"Authorization": f"token {lab_server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(put, timeout=10):
        pass


def luminance(css_colour: str) -> float:
    """0 (black) to 1 (white), from a computed `rgb(...)`/`rgba(...)` colour."""
    r, g, b = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255
