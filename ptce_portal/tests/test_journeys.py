"""The three journeys (applicant, reviewer, programme staff) in Debian's Chromium, checked by axe-core.

Each test drives a real browser against `live_server`; every wait is bounded. On failure the
`open_page` fixture keeps a screenshot and the HTML under test-artifacts/browser/<test>/.
"""

from __future__ import annotations

import io
import re
import time

import pytest
from django.core import mail
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.roles import Role
from accounts.tests.factories import PASSWORD, UserFactory, code_for_secret, totp_code
from applications.models import Dossier, Membership, OrganisationKind
from applications.services import submit_dossier
from applications.tests.factories import SECTION_DATA, CallFactory, add_member, budget_data, complete_dossier
from applications.tests.test_uploads import pdf_bytes
from awards.models import Decision
from conftest import totp_authenticator
from ptce_portal.tests.browser import AxeAudit
from reviews.criteria import ensure_ptce_criteria
from reviews.models import Assignment, Review
from reviews.services import ScoreInput, assign_reviewer, confirm_no_conflict, save_review
from reviews.tests.factories import ReviewerFactory

pytestmark = pytest.mark.browser

CONFLICT = "a été modifiée par"
AUTOSAVED = "Brouillon enregistré automatiquement"


def log_in(page, user, password=PASSWORD):
    page.goto("/accounts/login/")
    page.fill("main input[name=login]", user.email)
    page.fill("main input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    if user.is_staff:
        # Staff and reviewers give the code of their authenticator app next.
        expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
        page.fill("main input[name=code]", totp_code(user))
        page.get_by_role("button", name="Connexion").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def fill_section(page, data: dict) -> None:
    for name, value in data.items():
        field = page.locator(f"main [name='{name}']")
        if field.get_attribute("type") == "checkbox":
            field.check()
        elif value:
            field.fill(value)


def test_applicant_journey(page, celery_worker, media):
    call = CallFactory()
    audit = AxeAudit()

    # Sign up and confirm the address through the link of the e-mail.
    page.goto("/accounts/signup/")
    audit.check(page)
    page.fill("main input[name=email]", "camille@halage.example")
    page.fill("main input[name=password1]", PASSWORD)
    page.fill("main input[name=password2]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("camille@halage.example")
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+)", mail.outbox[-1].body).group(1)
    page.goto(link)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()

    page.goto("/tableau-de-bord/")
    audit.check(page)

    # The pole.
    page.goto("/poles/nouveau/")
    audit.check(page)
    page.fill("main [name=name]", "Pôle Cité Phares")
    page.fill("main [name=communes]", "L'Île-Saint-Denis")
    page.fill("main [name=departement]", "93")
    for name in ("region", "territory_priority", "maturity"):
        page.locator(f"main select[name={name}]").select_option(index=1)
    page.locator("main [name=sectors]").first.check()
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/poles/\d+/$"))
    consortium_url = page.url
    audit.check(page)

    # Its organisations: a wrong SIRET is reported on the field first.
    page.get_by_role("link", name="Ajouter une organisation").click()
    audit.check(page)
    organisation_url = page.url
    add_organisation(page, "Association Halage", "12345678901234", OrganisationKind.ESS_ASSOCIATION, lead=True)
    siret = page.locator("main input[name=siret]")
    expect(siret).to_have_attribute("aria-invalid", "true")
    described = (siret.get_attribute("aria-describedby") or "").split()
    messages = " ".join(page.locator(f"[id='{element_id}']").inner_text() for element_id in described)
    assert "SIRET" in messages, messages
    audit.check(page)
    add_organisation(page, "Association Halage", "73282932000074", OrganisationKind.ESS_ASSOCIATION, lead=True)
    expect(page).to_have_url(consortium_url)
    page.goto(organisation_url)
    add_organisation(page, "Biocoop du canal", "35600000000048", OrganisationKind.COMMERCIAL, lead=False)
    expect(page).to_have_url(consortium_url)

    # A co-editor.
    page.get_by_role("link", name="Équipe", exact=True).click()
    audit.check(page)
    page.fill("main input[name=email]", "dominique@biocoop.example")
    page.locator("main form button[type=submit]", has_text="Envoyer l'invitation").click()
    expect(page.locator("main")).to_contain_text("dominique@biocoop.example")
    audit.check(page)

    # The dossier, section by section.
    page.goto(consortium_url)
    page.get_by_role("button", name="Commencer le dossier").click()
    expect(page).to_have_url(re.compile(r"/dossiers/\d+/$"))
    overview_url = page.url
    for key, data in {**SECTION_DATA, "budget": budget_data(call.funding_years)}.items():
        page.goto(f"{overview_url}rubriques/{key}/")
        audit.check(page)
        fill_section(page, data)
        page.get_by_role("button", name="Enregistrer", exact=True).click()
        expect(page.locator("main")).to_contain_text("Rubrique enregistrée. Elle est complète.")

    page.goto(f"{overview_url}pieces/")
    audit.check(page)
    for attachment_type in call.attachment_types.all():
        page.locator("main select[name=attachment_type]").select_option(str(attachment_type.pk))
        page.locator("main input[name=file]").set_input_files(
            {"name": f"{attachment_type.code}.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
        )
        page.get_by_role("button", name="Déposer le fichier").click()
        expect(page.locator("main")).to_contain_text(f"{attachment_type.code}.pdf")
    expect(page.locator("main")).to_contain_text("Toutes les pièces obligatoires sont fournies.")

    # Submit and get the receipt, then the PDF once the worker has produced it.
    page.goto(overview_url)
    expect(page.locator("main")).to_contain_text("Le dossier est complet")
    audit.check(page)
    page.get_by_role("button", name="Déposer le dossier").click()
    expect(page).to_have_url(re.compile(r"/versions/1/$"))
    reference = Dossier.objects.get().reference
    expect(page.locator("main")).to_contain_text(reference)
    audit.check(page)
    pdf_link = page.get_by_role("link", name=re.compile("Télécharger le PDF"))
    deadline = time.monotonic() + 60
    while not pdf_link.count() and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
        page.reload()
    with page.expect_download() as download_info:
        pdf_link.click()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(download_info.value.path().read_bytes())).pages)
    assert reference in text

    assert audit.problems == [], "\n".join(audit.problems)


def add_organisation(page, name, siret, kind, *, lead):
    page.fill("main [name=name]", name)
    page.fill("main [name=siret]", siret)
    page.fill("main [name=legal_form]", "Association loi 1901" if lead else "SARL")
    page.locator("main select[name=kind]").select_option(kind.value)
    page.fill("main [name=address]", "1 quai de la Marine")
    page.fill("main [name=postcode]", "93450")
    page.fill("main [name=commune]", "L'Île-Saint-Denis")
    checkbox = page.locator("main [name=is_lead]")
    checkbox.check() if lead else checkbox.uncheck()
    page.locator("main form button[type=submit]").click()


def test_autosave_keeps_text_after_the_page_is_closed(open_page):
    dossier = complete_dossier()
    owner = dossier.consortium.created_by
    page = open_page()
    log_in(page, owner)
    section_url = f"/dossiers/{dossier.pk}/rubriques/gouvernance/"
    page.goto(section_url)
    textarea = page.locator("main textarea[name=description]")
    textarea.fill("")
    textarea.press_sequentially("Une SCIC à cinq collèges.")
    expect(page.locator(".autosave-status")).to_contain_text(AUTOSAVED)
    page.close()

    again = page.context.new_page()
    again.goto(section_url)
    expect(again.locator("main textarea[name=description]")).to_have_value("Une SCIC à cinq collèges.")


def test_concurrent_edit_shows_the_conflict_and_keeps_the_text(open_page):
    dossier = complete_dossier()
    owner = dossier.consortium.created_by
    editor = UserFactory()
    add_member(dossier.consortium, Membership.Role.EDITOR, user=editor)
    section_url = f"/dossiers/{dossier.pk}/rubriques/gouvernance/"
    first, second = open_page(), open_page()
    for page, user in ((first, owner), (second, editor)):
        log_in(page, user)
        page.goto(section_url)
    first.locator("main textarea[name=description]").fill("Version de la propriétaire.")
    second.locator("main textarea[name=description]").fill("Version du rédacteur.")
    first.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(first.locator("main")).to_contain_text("Rubrique enregistrée")
    second.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(second.locator("main")).to_contain_text(CONFLICT)
    expect(second.locator("main textarea[name=description]")).to_have_value("Version du rédacteur.")


def test_keyboard_only_submission(page, media):
    dossier = complete_dossier()
    owner = dossier.consortium.created_by
    log_in(page, owner)
    page.goto(f"/dossiers/{dossier.pk}/")
    submit = page.get_by_role("button", name="Déposer le dossier")
    for _ in range(200):
        page.keyboard.press("Tab")
        if submit.evaluate("button => button === document.activeElement"):
            break
    else:
        pytest.fail("the submit button cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/versions/1/$"))
    dossier.refresh_from_db()
    expect(page.locator("main")).to_contain_text(dossier.reference)
    assert dossier.status == Dossier.Status.SUBMITTED


def test_public_pages_pass_axe(page):
    call = CallFactory()
    audit = AxeAudit()
    for url in ("/", f"/appels/{call.slug}/", "/accessibilite/", "/mentions-legales/", "/accounts/login/"):
        page.goto(url)
        audit.check(page)
    assert audit.problems == [], "\n".join(audit.problems)


def submitted(call):
    dossier = complete_dossier(call=call)
    submit_dossier(dossier, by=dossier.consortium.created_by)
    dossier.refresh_from_db()
    return dossier


def test_reviewer_scores_only_their_assignment(page, media):
    call = CallFactory()
    ensure_ptce_criteria(call)
    mine, other = submitted(call), submitted(call)
    staff = UserFactory(role=Role.PROGRAM_STAFF)
    reviewer = ReviewerFactory()
    assign_reviewer(mine, reviewer=reviewer, by=staff)
    assign_reviewer(other, reviewer=ReviewerFactory(), by=staff)
    page.on("dialog", lambda dialog: dialog.accept())

    # First log-in: the admin's log-in is the portal's, then the authenticator app is enrolled.
    page.goto("/admin/login/")
    page.fill("main input[name=login]", reviewer.email)
    page.fill("main input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    expect(page.locator("main")).to_contain_text("la double authentification y est obligatoire")
    secret = page.locator("#authenticator_secret").input_value()
    page.fill("main input[name=code]", code_for_secret(secret))
    page.get_by_role("button", name="Activer").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    page.get_by_role("link", name="Continuer vers l'administration").click()
    expect(page.locator("#site-name")).to_be_visible()
    page.goto("/admin/reviews/assignment/")
    expect(page.locator("#content h1")).to_have_text("Mes évaluations")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).not_to_contain_text(other.reference)
    page.get_by_role("link", name="Évaluer").click()

    page.get_by_label("Je confirme n'avoir aucun conflit d'intérêts avec ce dossier").check()
    page.locator("#content form [type=submit]").click()
    scores = page.locator("select[name^=score_]")
    expect(scores).to_have_count(call.criteria.count())
    for select in scores.all():
        select.select_option("4")
    page.locator("select[name=recommendation]").select_option(Review.Recommendation.FUND.value)
    page.locator("input[name=submit]").click()
    expect(page.locator("#content")).to_contain_text("verrouillée")
    review = Review.objects.get(assignment__reviewer=reviewer)
    assert review.status == Review.Status.SUBMITTED


def test_staff_assign_select_export_and_publish(open_page, media):
    call = CallFactory(target_laureates=2)
    ensure_ptce_criteria(call)
    dossiers = [submitted(call) for _ in range(3)]
    for _ in range(3):
        ReviewerFactory()
    staff = UserFactory(role=Role.PROGRAM_STAFF)
    totp_authenticator(staff)
    page = open_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, staff)

    page.goto(f"/programme/appels/{call.slug}/attribution/")
    page.get_by_role("button", name="Lancer l'attribution automatique").click()
    expect(page.locator("main")).to_contain_text("attribution(s) créée(s)")
    assignments = list(Assignment.objects.filter(dossier__call=call).select_related("dossier", "reviewer"))
    assert {a.dossier_id for a in assignments} == {d.pk for d in dossiers}
    criteria = list(call.criteria.all())
    value = {dossier.pk: 5 - index for index, dossier in enumerate(dossiers)}
    for assignment in assignments:
        confirm_no_conflict(assignment, by=assignment.reviewer)
        save_review(
            assignment,
            scores=[ScoreInput(criterion_id=c.pk, value=value[assignment.dossier_id]) for c in criteria],
            recommendation=Review.Recommendation.FUND.value,
            overall_comment="",
            by=assignment.reviewer,
            submit=True,
        )

    page.goto(f"/programme/appels/{call.slug}/classement/")
    for dossier in dossiers:
        expect(page.locator("main")).to_contain_text(dossier.reference)

    page.goto(f"/programme/appels/{call.slug}/selection/")
    page.get_by_label("Date du comité de sélection").fill("2014-01-15")
    page.get_by_label("Motivation (reprise dans chaque décision)").fill("Comité du 15 janvier 2014")
    page.get_by_role("button", name="Accepter la proposition").click()
    expect(page.locator("main")).not_to_contain_text("Accepter la proposition")
    laureates = list(Decision.objects.filter(outcome=Decision.Outcome.LAUREATE).select_related("dossier__consortium"))
    assert laureates

    page.goto(f"/programme/appels/{call.slug}/decisions/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="XLSX").first.click()
    sheet = load_workbook(io.BytesIO(download_info.value.path().read_bytes())).active
    references = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert laureates[0].dossier.reference in references
    page.get_by_role("button", name="Publier les résultats").click()
    expect(page.locator("main")).to_contain_text("Résultats publiés le")

    public = open_page()
    public.goto(f"/resultats/{call.slug}/")
    expect(public.locator("main")).to_contain_text(laureates[0].dossier.consortium.name)
    audit = AxeAudit()
    audit.check(public)
    assert audit.problems == [], "\n".join(audit.problems)
