"""The Content Security Policy breaks nothing: Chromium reports no violation on portal pages, the
two-factor pages or the Django admin (which loads external scripts and JSON data blocks)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from accounts.tests.factories import PASSWORD, UserFactory, totp_code
from applications.tests.factories import CallFactory, complete_dossier
from conftest import totp_authenticator
from ptce_portal.tests.browser import new_page

pytestmark = pytest.mark.browser

# Registered before any page script runs; Playwright's own scripts are not subject to the policy.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


class ViolationRecorder:
    """CSP violations of every page visited: console reports and securitypolicyviolation events."""

    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        self.pages = 0
        page.add_init_script(LISTEN)
        page.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.problems.append(f"{self.page.url} console: {message.text}")

    def visit(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None
        assert response.ok, f"{url}: {response.status}"
        assert "script-src 'self'" in response.headers["content-security-policy"]
        self.check()

    def check(self) -> None:
        self.pages += 1
        self.page.wait_for_load_state("load")
        self.problems += [f"{self.page.url} {v}" for v in self.page.evaluate("window.__cspViolations || []")]


def test_no_csp_violation_on_portal_admin_and_two_factor_pages(open_page, media):
    call = CallFactory()
    dossier = complete_dossier(call=call)
    owner = dossier.consortium.created_by
    staff = UserFactory(role=Role.PROGRAM_STAFF, is_superuser=True)
    totp_authenticator(staff)

    applicant_page = open_page()
    applicant = ViolationRecorder(applicant_page)
    for url in ("/", f"/appels/{call.slug}/", "/accounts/signup/", "/accounts/login/"):
        applicant.visit(url)
    applicant_page.fill("main input[name=login]", owner.email)
    applicant_page.fill("main input[name=password]", PASSWORD)
    applicant_page.locator("main form button[type=submit]").click()
    expect(applicant_page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    # The section page runs the autosave script, the dashboard the deadline countdown.
    for url in ("/tableau-de-bord/", f"/dossiers/{dossier.pk}/", f"/dossiers/{dossier.pk}/rubriques/gouvernance/"):
        applicant.visit(url)
    applicant_page.locator("main textarea[name=description]").fill("Texte saisi sous CSP.")
    expect(applicant_page.locator(".autosave-status")).to_contain_text("Brouillon enregistré automatiquement")
    applicant.check()

    # A newcomer to the staff enrols their authenticator app (QR code as a data: image).
    newcomer_page = open_page()
    newcomer = ViolationRecorder(newcomer_page)
    reviewer = UserFactory(role=Role.REVIEWER)
    newcomer.visit("/accounts/login/")
    newcomer_page.fill("main input[name=login]", reviewer.email)
    newcomer_page.fill("main input[name=password]", PASSWORD)
    newcomer_page.locator("main form button[type=submit]").click()
    newcomer_page.goto("/admin/")
    expect(newcomer_page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(newcomer_page.locator("main h1")).to_have_text("Activer la double authentification")
    newcomer.check()

    staff_page = open_page()
    admin = ViolationRecorder(staff_page)
    admin.visit("/admin/login/")
    staff_page.fill("main input[name=login]", staff.email)
    staff_page.fill("main input[name=password]", PASSWORD)
    staff_page.locator("main form button[type=submit]").click()
    staff_page.fill("main input[name=code]", totp_code(staff))
    staff_page.get_by_role("button", name="Connexion").click()
    expect(staff_page.locator("#site-name")).to_be_visible()
    admin.check()
    for url in (
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{staff.pk}/change/",
        "/admin/accounts/user/add/",
        f"/admin/applications/call/{call.pk}/change/",
        f"/admin/applications/dossier/{dossier.pk}/change/",
        "/accounts/2fa/",
        "/programme/",
        f"/programme/appels/{call.slug}/attribution/",
    ):
        admin.visit(url)
    # Scripts really ran: the admin's date shortcuts and the groups selector are built by JS.
    admin.visit(f"/admin/applications/call/{call.pk}/change/")
    expect(staff_page.locator(".datetimeshortcuts").first).to_be_visible()
    admin.visit(f"/admin/accounts/user/{staff.pk}/change/")
    expect(staff_page.locator(".selector").first).to_be_visible()

    problems = applicant.problems + newcomer.problems + admin.problems
    assert applicant.pages + newcomer.pages + admin.pages >= 20
    assert problems == [], "\n".join(problems)


def test_the_recorder_sees_a_blocked_script(chromium, live_server, settings, db):
    # Guards the tests above (and the open_page fixture): with scripts forbidden, Bootstrap's
    # script is reported both as an event and on the console. Not through open_page, which would
    # fail the test for the violation it provokes.
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'"], "script-src": ["'none'"]}}
    page = new_page(chromium, live_server.url)
    recorder = ViolationRecorder(page)
    try:
        page.goto("/")
        recorder.check()
        page.wait_for_timeout(200)
    finally:
        page.context.close()

    events = [problem for problem in recorder.problems if "console:" not in problem]
    console = [problem for problem in recorder.problems if "console:" in problem]
    assert any("bootstrap.bundle.min.js" in problem for problem in events), recorder.problems
    assert any("bootstrap.bundle.min.js" in problem for problem in console), recorder.problems
