"""Helpers of the browser tests: Debian's Chromium through Playwright, axe-core, failure evidence."""

from __future__ import annotations

import re
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
TIMEOUT_MS = 20_000
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def new_page(browser, base_url: str):
    context = browser.new_context(base_url=base_url, locale="fr-FR", accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def axe_problems(page) -> list[str]:
    """Serious and critical WCAG 2.1 A/AA violations of the page, one line per rule and target."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [
        f"{page.url} {violation['id']} ({violation['impact']}): {node['target']}"
        for violation in results.response["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]


class AxeAudit:
    """Collects the problems of every page checked, so one test reports them all at the end."""

    def __init__(self):
        self.problems: list[str] = []
        self.pages = 0

    def check(self, page) -> None:
        self.pages += 1
        self.problems += axe_problems(page)


def save_evidence(page, name: str) -> Path:
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "screenshot.png"), full_page=True)
    (folder / "page.html").write_text(page.content(), encoding="utf-8")
    return folder
