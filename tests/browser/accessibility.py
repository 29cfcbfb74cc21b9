"""axe-core on the pages the browser tests visit: no violation of moderate impact or worse.

axe-core comes from the npm registry into tests/browser/axe/ (``make test`` installs it with
``npm ci``, from the committed lock file) and is injected into the page by Playwright, so the
application ships no test code. Every screenshot a browser test keeps is also an
accessibility check of that screen (``Artefacts.shot``), and tests/browser/test_accessibility.py
visits every page for each role.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("moderate", "serious", "critical")
# WCAG 2.1 A and AA plus axe's best practices: what a hospital's accessibility review asks for.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]

RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
  }));
}"""


def violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations of moderate impact or worse on the page as it is now."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make test` (npm ci in tests/browser/axe)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(RUN, TAGS)
    return [v for v in found if v["impact"] in FAILING_IMPACTS]


def assert_accessible(page: Page, where: str) -> None:
    """Fail with each violation's rule, impact, help text and first elements."""
    problems = violations(page)
    if problems:
        lines = [f"{v['impact']}: {v['id']} — {v['help']} — {', '.join(v['nodes'])}" for v in problems]
        raise AssertionError(f"accessibility violations on {where} ({page.url}):\n" + "\n".join(lines))
