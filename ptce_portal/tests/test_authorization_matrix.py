"""Who may do what on every URL of the portal (rule 3), admin and allauth included.

Every pattern of the URL resolver is requested with GET and with an empty POST by each role of
`ROLES` (one test per URL name and method; its failure names every failing role), on real
objects that are not the role's own: members of the consortium are on their own consortium's
objects, so their rows say what each membership role may do. The expected status class of each
cell is declared in one table, `EXPECTED`; the admin pages of each registered model take their
rows from `ADMIN_PERMISSIONS`. A URL without a row fails the test naming it. Every response must
also carry the security headers, and every download must be an attachment.

The objects are built once for the module; each cell runs in its own savepoint, so what an empty
POST changes (a deletion, a withdrawal, a log-out) is undone before the next cell.
"""

from __future__ import annotations

import copy
import re
import traceback
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLResolver, get_resolver, reverse

from conftest import sign_in

from .authorization_world import ROLES, build_world

# --- Status classes -------------------------------------------------------------------------
# ok: 2xx | login: redirect to a log-in page | redirect: any other redirect | 400, 403, 404, 405…
# "a|b" accepts either (only where the answer depends on the machine, not on who asks).

# Rows by shorthand, one token per role in ROLES order:
#                  anonymous outsider reader   editor   owner    reviewer assigned conflicted staff    superuser
PUBLIC = "         ok        ok       ok       ok       ok       ok       ok       ok         ok       ok"
NOT_ALLOWED = "    405       405      405      405      405      405      405      405        405      405"
SIGNED_IN = "      login     ok       ok       ok       ok       ok       ok       ok         ok       ok"
SIGNED_405 = "     login     405      405      405      405      405      405      405        405      405"
SIGNED_DO = "      login     redirect redirect redirect redirect redirect redirect redirect   redirect redirect"
MEMBERS = "        login     404      ok       ok       ok       404      404      404        404      404"
EDITORS = "        login     404      403      ok       ok       404      404      404        404      404"
EDITORS_DO = "     login     404      403      redirect redirect 404      404      404        404      404"
OWNERS = "         login     404      403      403      ok       404      404      404        404      404"
OWNERS_DO = "      login     404      403      403      redirect 404      404      404        404      404"
STAFF = "          login     403      403      403      403      403      403      403        ok       ok"
STAFF_400 = "      login     403      403      403      403      403      403      403        400      400"
STAFF_405 = "      login     403      403      403      403      403      403      403        405      405"
STAFF_DO = "       login     403      403      403      403      403      403      403        redirect redirect"
ANONYMOUS_ONLY = " ok        redirect redirect redirect redirect redirect redirect redirect   redirect redirect"
# In the admin, whoever is neither reviewer nor staff is sent to the log-in page.
ADMIN = "          login     login    login    login    login    ok       ok       ok         ok       ok"
ADMIN_403 = "      login     login    login    login    login    403      403      403        403      403"
ADMIN_404 = "      login     login    login    login    login    404      404      404        404      404"
ADMIN_405 = "      login     login    login    login    login    405      405      405        405      405"
ADMIN_DO = "       login     login    login    login    login    redirect redirect redirect   redirect redirect"
# Reviewers' own assignment: the assigned one sees it, the others (no assignment, or a conflict)
# get nothing, program staff see everyone's.
MINE = "           login     login    login    login    login    404      ok       404        ok       ok"
MINE_403 = "       login     login    login    login    login    404      ok       404        403      403"
MINE_CLOSED = "    login     login    login    login    login    404      403      404        403      403"
MINE_MISSING = "   login     login    login    login    login    redirect ok       redirect   ok       ok"
STAFF_ADMIN = "    login     login    login    login    login    403      403      403        ok       ok"
STAFF_ADMIN_404 = "login     login    login    login    login    404      404      404        ok       ok"
STAFF_ADMIN_403 = "login     login    login    login    login    404      404      404        403      403"

EXPECTED: dict[str, tuple[str, str]] = {
    # url name: (GET, POST)
    # --- Public pages ---
    "home": (PUBLIC, PUBLIC),
    "accessibility": (PUBLIC, NOT_ALLOWED),
    "legal": (PUBLIC, NOT_ALLOWED),
    "health": (" ".join(["ok|503"] * 10), NOT_ALLOWED),  # 503 when no Celery worker answers
    "applications:call-detail": (PUBLIC, PUBLIC),
    "awards:public-results": (PUBLIC, NOT_ALLOWED),
    "awards:public-data": (PUBLIC, NOT_ALLOWED),
    "awards:public-csv": (PUBLIC, NOT_ALLOWED),
    "awards:public-json": (PUBLIC, NOT_ALLOWED),
    # --- Applicants: the consortium and its team ---
    "applications:dashboard": (SIGNED_IN, SIGNED_IN),
    "applications:consortium-create": (SIGNED_IN, SIGNED_IN),
    "applications:consortium-detail": (MEMBERS, SIGNED_405),
    "applications:consortium-update": (EDITORS, EDITORS),
    "applications:organisation-create": (EDITORS, EDITORS),
    "applications:organisation-update": (EDITORS, EDITORS),
    "applications:organisation-delete": (EDITORS, EDITORS_DO),
    "applications:team": (MEMBERS, OWNERS),
    "applications:invitation-revoke": (SIGNED_405, OWNERS_DO),
    # The link is the capability: whoever holds it sees whom it invites where; only the invited
    # address may accept it.
    "applications:invitation-accept": (PUBLIC, "login 403 403 403 403 403 403 403 403 403"),
    # --- Applicants: the dossier ---
    "applications:dossier-start": (SIGNED_405, EDITORS_DO),
    "applications:dossier-overview": (MEMBERS, MEMBERS),
    "applications:dossier-section": (MEMBERS, EDITORS),
    "applications:dossier-submit": (SIGNED_405, EDITORS_DO),
    "applications:dossier-withdraw": (SIGNED_405, EDITORS_DO),
    "applications:dossier-reinstate": (SIGNED_405, EDITORS_DO),
    "applications:submission-detail": (MEMBERS, MEMBERS),
    "applications:submission-pdf": (MEMBERS, MEMBERS),
    "applications:attachment-list": (MEMBERS, EDITORS),
    "applications:attachment-download": (MEMBERS, SIGNED_405),
    "applications:attachment-remove": (SIGNED_405, EDITORS_DO),
    "reviews:team-thread": (MEMBERS, EDITORS),
    "reviews:message-attachment": ("login 404 ok ok ok 404 404 404 ok ok", "login 404 ok ok ok 404 404 404 ok ok"),
    "awards:letter-pdf": (MEMBERS, SIGNED_405),
    "awards:reports": (MEMBERS, EDITORS),
    "awards:report-download": (MEMBERS, SIGNED_405),
    # --- Program staff pages ---
    "reviews:call-list": (STAFF, STAFF),
    "reviews:assignment": (STAFF, STAFF),
    "reviews:ranking": (STAFF, STAFF),
    "reviews:progress": (STAFF, STAFF),
    "reviews:remind": (STAFF_405, STAFF_DO),
    "reviews:staff-thread": (STAFF, STAFF),
    "awards:selection": (STAFF, STAFF_400),  # a POST without a known action is refused
    "awards:decisions": (STAFF, STAFF_400),
    "awards:export": (STAFF, STAFF_405),
    # --- Accounts (allauth): one's own account only, no object of anyone else's ---
    "account_login": (ANONYMOUS_ONLY, ANONYMOUS_ONLY),
    "account_signup": (ANONYMOUS_ONLY, ANONYMOUS_ONLY),
    "account_logout": ("redirect ok ok ok ok ok ok ok ok ok", "redirect " * 10),
    "account_email": (SIGNED_IN, SIGNED_DO),
    "account_change_password": (SIGNED_IN, SIGNED_IN),
    "account_set_password": (SIGNED_DO, SIGNED_DO),  # everyone here has a password
    "account_reauthenticate": (SIGNED_IN, SIGNED_IN),
    "account_inactive": (PUBLIC, NOT_ALLOWED),
    "account_email_verification_sent": (PUBLIC, NOT_ALLOWED),
    "account_confirm_email": (PUBLIC, "404 " * 10),  # an unknown key
    "account_confirm_login_code": (SIGNED_DO, SIGNED_DO),  # no log-in by code under way
    "account_reset_password": (PUBLIC, PUBLIC),
    "account_reset_password_done": (PUBLIC, NOT_ALLOWED),
    "account_reset_password_from_key": (PUBLIC, PUBLIC),  # an unknown key: "invalid link" page
    "account_reset_password_from_key_done": (PUBLIC, NOT_ALLOWED),
    # --- Personal data: one's own ---
    "privacy:page": (SIGNED_IN, "login " + "400 " * 9),  # closing the account needs the password
    "privacy:export": (SIGNED_IN, SIGNED_405),
    # --- Two-factor authentication (allauth.mfa): one's own authenticators ---
    "mfa_index": (SIGNED_IN, SIGNED_405),
    "mfa_activate_totp": (SIGNED_DO, SIGNED_DO),  # staff and reviewers already have one
    "mfa_authenticate": (SIGNED_DO, SIGNED_DO),  # only during a log-in
    "mfa_reauthenticate": ("login redirect redirect redirect redirect ok ok ok ok ok",) * 2,
    # Staff and reviewers may not switch their second factor off.
    "mfa_deactivate_totp": ("login 404 404 404 404 redirect redirect redirect redirect redirect",) * 2,
    "mfa_generate_recovery_codes": (SIGNED_DO, SIGNED_DO),
    "mfa_view_recovery_codes": ("login " + "404 " * 9, SIGNED_405),
    "mfa_download_recovery_codes": ("login " + "404 " * 9,) * 2,
    # --- Admin: the site's own pages ---
    "admin:index": (ADMIN, ADMIN),
    # allauth's log-in is the only one: the admin's sends there (signed-in staff on to the admin, even
    # when they post credentials: no password is checked outside allauth), and refuses applicants.
    "admin:login": ("login 403 403 403 403 redirect redirect redirect redirect redirect",) * 2,
    "admin:logout": ("redirect redirect redirect redirect redirect 405 405 405 405 405", "redirect " * 5 + "ok " * 5),
    "admin:password_change": (ADMIN, ADMIN),
    "admin:password_change_done": (ADMIN, ADMIN_405),
    "admin:jsi18n": (ADMIN, ADMIN_405),
    "admin:autocomplete": (STAFF_ADMIN, ADMIN_405),  # reviewers may not look users up
    "admin:app_list": (ADMIN, ADMIN),  # the reviews app: reviewers have "Mes évaluations"
    "admin:view_on_site": (ADMIN_DO, ADMIN_DO),
    "admin:auth_user_password_change": (
        "login login login login login 403 403 403 403 ok",
        "login login login login login 403 403 403 403 ok",
    ),  # the account of another superuser
    "route:admin/(?P<url>.*)$": (ADMIN_404, ADMIN_404),
    # --- Admin: reviewers' pages ("Mes évaluations") ---
    "admin:reviews_assignment_changelist": (ADMIN, ADMIN),  # narrowed to their own
    "admin:reviews_assignment_change": (
        MINE_MISSING,
        "login login login login login 403 403 403 ok ok",
    ),
    "admin:reviews_assignment_history": (MINE, MINE),
    "admin:reviews_assignment_simple_history": (MINE, MINE_CLOSED),
    "admin:reviews_assignment_evaluate": (MINE, MINE_403),  # only the designated reviewer scores
    "admin:reviews_assignment_pdf": (MINE, MINE),
    "admin:reviews_assignment_attachment": (MINE, MINE),
    "admin:reviews_assignment_message_attachment": (MINE, MINE),
    # Reviews are staff's only: a reviewer never sees one, not even its history.
    "admin:reviews_review_history": (STAFF_ADMIN_404, STAFF_ADMIN_404),
    "admin:reviews_review_simple_history": (STAFF_ADMIN_404, STAFF_ADMIN_403),
    "admin:reviews_reviewunlock_history": ("login login login login login redirect redirect redirect ok ok",) * 2,
}

# What each registered model's admin lets reviewers (all three rows), program staff and
# superusers do with the matrix's object of that model: v view, a add, c change, d delete.
# Rows of its pages (changelist, add, change, delete, history, a past version, the short link)
# are derived from these letters; EXPECTED wins where a page needs a row of its own.
ADMIN_PERMISSIONS: dict[str, tuple[str, str, str]] = {
    #                          reviewers staff   superuser
    "account.emailaddress": ("", "", "vacd"),
    "accounts.user": ("", "v", "vacd"),  # the object is another superuser's account
    "auth.group": ("", "", "vacd"),
    "mfa.authenticator": ("", "", "vacd"),
    "audit.auditdigest": ("", "v", "v"),
    "applications.call": ("", "vac", "vacd"),
    "applications.consortium": ("", "v", "vacd"),
    "applications.invitation": ("", "v", "vacd"),
    "applications.dossier": ("", "vc", "vcd"),
    "applications.submission": ("", "v", "v"),
    "applications.attachment": ("", "v", "vcd"),
    "reviews.criterion": ("", "vac", "vac"),  # frozen (reviewing has started): nothing editable
    "reviews.reviewerprofile": ("", "vacd", "vacd"),
    "reviews.conflict": ("", "vacd", "vacd"),
    "reviews.assignment": ("v", "vacd", "vacd"),
    "reviews.review": ("", "v", "v"),
    "reviews.reviewunlock": ("", "v", "vd"),
    "awards.decision": ("", "v", "va"),  # results are published: decisions are final
    "awards.award": ("", "vc", "vc"),
    "awards.activityreport": ("", "vc", "vc"),
    "awards.decisionletter": ("", "vc", "vc"),
    "jobs.job": ("", "vc", "vc"),
    "jobs.heartbeat": ("", "v", "vd"),
}
# Change forms with nothing required (everything read-only): an empty POST saves and redirects.
SAVED_BY_EMPTY_POST = {"reviews.criterion", "awards.activityreport", "jobs.job"}

# Files: a 2xx response of these must be an attachment, never rendered by the browser.
DOWNLOADS = {
    "applications:attachment-download",
    "applications:submission-pdf",
    "reviews:message-attachment",
    "awards:export",
    "awards:public-csv",
    "awards:letter-pdf",
    "awards:report-download",
    "admin:reviews_assignment_pdf",
    "admin:reviews_assignment_attachment",
    "admin:reviews_assignment_message_attachment",
    "privacy:export",
}
INLINE_CONTENT_TYPES = ("text/html", "application/json", "text/javascript")


# --- The URLs of the project ----------------------------------------------------------------


def url_patterns() -> dict[str, str]:
    """Every pattern of the project by URL name (unnamed ones by route, as "route:<route>")."""
    found: dict[str, str] = {}

    def walk(resolver, prefix: str, namespace: str | None) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(part for part in (namespace, pattern.namespace) if part) or None
                walk(pattern, prefix + str(pattern.pattern), inner)
                continue
            route = prefix + str(pattern.pattern)
            name = ":".join(part for part in (namespace, pattern.name) if part) if pattern.name else f"route:{route}"
            found.setdefault(name, route)

    walk(get_resolver(), "", None)
    return found


def admin_families() -> dict[str, tuple[str, str]]:
    """URL name → (model label, page) for the generic pages of every registered model."""
    families = {}
    for model in admin.site._registry:
        opts = model._meta
        for page in ("changelist", "add", "change", "delete", "history", "simple_history"):
            families[f"admin:{opts.app_label}_{opts.model_name}_{page}"] = (opts.label_lower, page)
        families[f"route:admin/{opts.app_label}/{opts.model_name}/<path:object_id>/"] = (opts.label_lower, "object")
    return families


PATTERNS = url_patterns()
FAMILIES = admin_families()
ADMIN_ROLE_COLUMN = {"reviewer": 0, "assigned": 0, "conflicted": 0, "staff": 1, "superuser": 2}


def admin_row(label: str, page: str) -> tuple[str, str]:
    """The (GET, POST) row of a generic admin page, from the model's letters."""
    letters = ADMIN_PERMISSIONS[label]
    rows = {"GET": [], "POST": []}
    for role in ROLES:
        if role not in ADMIN_ROLE_COLUMN:
            # Neither reviewer nor staff: the admin sends them to the log-in page.
            rows["GET"].append("login")
            rows["POST"].append("login")
            continue
        may = letters[ADMIN_ROLE_COLUMN[role]]
        see = "ok" if ("v" in may or "c" in may) else "403"
        if page in ("changelist", "history"):
            get = post = see
        elif page == "add":
            get = post = "ok" if "a" in may else "403"
        elif page == "change":
            saved = "redirect" if label in SAVED_BY_EMPTY_POST else "ok"
            get, post = see, (saved if "c" in may else "403")
        elif page == "delete":
            # An empty POST is not a confirmation: the page is shown again, nothing is deleted.
            get = post = "ok" if "d" in may else "403"
        elif page == "simple_history":
            # A past version may be looked at, never restored: changes go through the services.
            get, post = see, "403"
        else:  # the short link to the change page
            get = post = "redirect"
        rows["GET"].append(get)
        rows["POST"].append(post)
    return " ".join(rows["GET"]), " ".join(rows["POST"])


def table() -> dict[str, tuple[str, str]]:
    rows = {}
    for name, (label, page) in FAMILIES.items():
        if name in PATTERNS and label in ADMIN_PERMISSIONS:
            rows[name] = admin_row(label, page)
    rows.update(EXPECTED)
    return rows


TABLE = table()


def expected(name: str, method: str, role: str) -> str:
    get, post = TABLE[name]
    tokens = (get if method == "GET" else post).split()
    assert len(tokens) == len(ROLES), f"{name} {method}: {len(tokens)} entries for {len(ROLES)} roles"
    return tokens[ROLES.index(role)]


# --- Building the URL of a pattern for a role -----------------------------------------------


def _assignment(world, role):
    # Reviewers are on their own assignment when they have one (the conflicted one included).
    return world.conflicted_assignment if role == "conflicted" else world.assignment


ARGUMENTS = {
    "applications:call-detail": lambda w, r: {"slug": w.open_call.slug},
    "applications:consortium-detail": lambda w, r: {"pk": w.consortium.pk},
    "applications:consortium-update": lambda w, r: {"pk": w.consortium.pk},
    "applications:organisation-create": lambda w, r: {"pk": w.consortium.pk},
    "applications:organisation-update": lambda w, r: {"pk": w.consortium.pk, "org_pk": w.organisation.pk},
    "applications:organisation-delete": lambda w, r: {"pk": w.consortium.pk, "org_pk": w.organisation.pk},
    "applications:team": lambda w, r: {"pk": w.consortium.pk},
    "applications:invitation-revoke": lambda w, r: {"pk": w.consortium.pk, "invitation_pk": w.invitation.pk},
    "applications:invitation-accept": lambda w, r: {"token": w.invitation.token},
    "applications:dossier-start": lambda w, r: {"pk": w.consortium.pk, "call_slug": w.open_call.slug},
    "applications:dossier-overview": lambda w, r: {"pk": w.draft.pk},
    "applications:dossier-section": lambda w, r: {"pk": w.draft.pk, "key": "resume"},
    "applications:dossier-submit": lambda w, r: {"pk": w.draft.pk},
    "applications:dossier-withdraw": lambda w, r: {"pk": w.draft.pk},
    "applications:dossier-reinstate": lambda w, r: {"pk": w.draft.pk},
    "applications:submission-detail": lambda w, r: {"pk": w.laureate.pk, "version": 1},
    "applications:submission-pdf": lambda w, r: {"pk": w.laureate.pk, "version": 1},
    "applications:attachment-list": lambda w, r: {"pk": w.draft.pk},
    "applications:attachment-download": lambda w, r: {"pk": w.draft.pk, "uuid": w.draft_attachment.uuid},
    "applications:attachment-remove": lambda w, r: {"pk": w.draft.pk, "uuid": w.draft_attachment.uuid},
    "reviews:assignment": lambda w, r: {"slug": w.closed_call.slug},
    "reviews:ranking": lambda w, r: {"slug": w.closed_call.slug},
    "reviews:progress": lambda w, r: {"slug": w.closed_call.slug},
    "reviews:remind": lambda w, r: {"slug": w.closed_call.slug},
    "reviews:staff-thread": lambda w, r: {"pk": w.laureate.pk},
    "reviews:team-thread": lambda w, r: {"pk": w.laureate.pk},
    "reviews:message-attachment": lambda w, r: {"pk": w.laureate.pk, "message_pk": w.message.pk},
    "awards:selection": lambda w, r: {"slug": w.closed_call.slug},
    "awards:decisions": lambda w, r: {"slug": w.closed_call.slug},
    "awards:export": lambda w, r: {"slug": w.closed_call.slug, "liste": "laureats", "fmt": "csv"},
    "awards:public-results": lambda w, r: {"slug": w.closed_call.slug},
    "awards:public-data": lambda w, r: {"slug": w.closed_call.slug},
    "awards:public-csv": lambda w, r: {"slug": w.closed_call.slug},
    "awards:public-json": lambda w, r: {"slug": w.closed_call.slug},
    "awards:letter-pdf": lambda w, r: {"pk": w.laureate.pk},
    "awards:reports": lambda w, r: {"pk": w.laureate.pk},
    "awards:report-download": lambda w, r: {"pk": w.laureate.pk, "report_pk": w.report.pk},
    "account_confirm_email": lambda w, r: {"key": "cle-inconnue"},
    "account_reset_password_from_key": lambda w, r: {"uidb36": "1", "key": "cle-inconnue"},
    "admin:app_list": lambda w, r: {"app_label": "reviews"},
    "admin:view_on_site": lambda w, r: {
        "content_type_id": ContentType.objects.get_for_model(w.laureate).pk,
        "object_id": w.laureate.pk,
    },
    "admin:auth_user_password_change": lambda w, r: {"id": w.target_user.pk},
    "admin:reviews_assignment_evaluate": lambda w, r: {"pk": _assignment(w, r).pk},
    "admin:reviews_assignment_pdf": lambda w, r: {"pk": _assignment(w, r).pk},
    "admin:reviews_assignment_attachment": lambda w, r: {"pk": _assignment(w, r).pk, "uuid": w.attachment.uuid},
    "admin:reviews_assignment_message_attachment": lambda w, r: {
        "pk": _assignment(w, r).pk,
        "message_pk": w.message.pk,
    },
}

# Query strings, where a page needs one to reach its permission check.
QUERIES = {
    # Who may search users by name, from the reviewer field of an assignment.
    "admin:autocomplete": "?app_label=reviews&model_name=assignment&field_name=reviewer&term=e",
}

# The admin object of each registered model the generic pages are requested on.
ADMIN_OBJECTS = {
    "account.emailaddress": "email_address",
    "accounts.user": "target_user",
    "auth.group": "group",
    "applications.call": "closed_call",
    "applications.consortium": "consortium",
    "applications.invitation": "invitation",
    "applications.dossier": "laureate",
    "applications.submission": "submission",
    "applications.attachment": "attachment",
    "reviews.criterion": "criterion",
    "reviews.reviewerprofile": "profile",
    "reviews.conflict": "conflict",
    "reviews.review": "review",
    "reviews.reviewunlock": "unlock",
    "awards.decision": "decision",
    "awards.award": "award",
    "awards.activityreport": "report",
    "awards.decisionletter": "letter",
    "jobs.job": "job",
    "jobs.heartbeat": "heartbeat",
    "audit.auditdigest": "audit_digest",
    "mfa.authenticator": "authenticator",
}


def admin_object(world, label: str, role: str):
    if label == "reviews.assignment":
        return _assignment(world, role)
    return getattr(world, ADMIN_OBJECTS[label])


def url_for(name: str, role: str, world) -> str:
    if name == "route:admin/(?P<url>.*)$":
        return "/admin/page-inconnue/"
    if name in FAMILIES:
        label, page = FAMILIES[name]
        obj = admin_object(world, label, role)
        if page in ("changelist", "add"):
            return reverse(name)
        if page == "object":
            return reverse(f"admin:{label.replace('.', '_')}_change", args=[obj.pk]).removesuffix("change/")
        if page == "simple_history":
            history_id = obj.history.order_by("history_id").values_list("history_id", flat=True).last()
            return reverse(name, args=[obj.pk, history_id])
        return reverse(name, args=[obj.pk])
    if name in ARGUMENTS:
        return reverse(name, kwargs=ARGUMENTS[name](world, role))
    if name in QUERIES:
        return reverse(name) + QUERIES[name]
    route = PATTERNS[name]
    assert not re.search(r"<|\(\?P|\(", route), f"{name} ({route}) takes arguments: add it to ARGUMENTS"
    return reverse(name)


# --- Responses ------------------------------------------------------------------------------

LOGIN_PATHS = {reverse("account_login"), reverse("admin:login")}


def status_class(response) -> str:
    code = response.status_code
    if 200 <= code < 300:
        return "ok"
    if code in (301, 302, 303, 307, 308):
        return "login" if urlsplit(response["Location"]).path in LOGIN_PATHS else "redirect"
    return str(code)


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def header_problems(name: str, response) -> list[str]:
    problems = []
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    if not response.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    csp = response.get("Content-Security-Policy")
    if csp is None:
        problems.append("no Content-Security-Policy")
    else:
        directives = csp_directives(csp)
        if directives.get("frame-ancestors") != ["'none'"]:
            problems.append(f"CSP frame-ancestors is {directives.get('frame-ancestors')}, not 'none'")
        if "script-src" not in directives:
            problems.append("CSP has no script-src")
        elif "'unsafe-inline'" in directives["script-src"]:
            problems.append("CSP script-src allows 'unsafe-inline'")
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    is_file = name in DOWNLOADS or content_type not in INLINE_CONTENT_TYPES
    attachment = response.get("Content-Disposition", "").startswith("attachment")
    if 200 <= response.status_code < 300 and is_file and not attachment:
        problems.append(f"a download ({content_type}) without Content-Disposition: attachment")
    return problems


# --- Fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The objects and the signed-in sessions, built once; rolled back when the module ends."""
    media = tmp_path_factory.mktemp("media")
    overrides = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        STORAGES={
            **settings.STORAGES,
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}},
        },
    )
    overrides.enable()
    atomic = transaction.atomic()
    try:
        with django_db_blocker.unblock():
            atomic.__enter__()
            world = build_world()
            world.clients, world.cookies = {}, {}
            for role, user in world.users.items():
                client = Client()
                if user is not None:
                    sign_in(client, user)
                world.clients[role] = client
                world.cookies[role] = copy.deepcopy(client.cookies)
            if apps.is_installed("allauth.mfa"):
                from allauth.mfa.models import Authenticator

                # An assigned reviewer's authenticator app (sign_in gives staff and reviewers one).
                world.objects["authenticator"] = Authenticator.objects.filter(user=world.users["assigned"]).first()
        yield world
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
        overrides.disable()


def request_as(world, role: str, method: str, url: str):
    # One client per role, its cookies as signed in: a log-out or a new session of an earlier
    # request must not carry over (the database side is rolled back by the cell's savepoint).
    client = world.clients[role]
    client.cookies = copy.deepcopy(world.cookies[role])
    response = client.get(url) if method == "GET" else client.post(url)
    if response.streaming:
        # Read to the end: the test client closes the file then (an open file fails the run).
        b"".join(response.streaming_content)
    return response


# --- Tests ----------------------------------------------------------------------------------

CASES = [(name, method) for name in sorted(PATTERNS) for method in ("GET", "POST")]


def test_every_url_of_the_project_has_a_row():
    missing = sorted(name for name in PATTERNS if name not in TABLE)
    unregistered = sorted({label for label, _page in FAMILIES.values()} - set(ADMIN_PERMISSIONS))
    stale = sorted(name for name in TABLE if name not in PATTERNS)
    assert (missing, unregistered, stale) == ([], [], []), (
        f"URL names without a row in EXPECTED: {missing}; admin models without ADMIN_PERMISSIONS: "
        f"{unregistered}; rows for URLs that no longer exist: {stale}"
    )


def cell_failures(world, name: str, method: str, role: str) -> list[str]:
    """What is wrong with one cell: its status class, its headers, or the exception it raised."""
    # Each cell starts from the same data and an empty cache (rate limits count per address).
    cache.clear()
    savepoint = transaction.savepoint()
    try:
        url = url_for(name, role, world)
        response = request_as(world, role, method, url)
    except Exception as error:  # noqa: BLE001 - a server error is a failure of this cell, named
        where = "".join(traceback.format_exception(error)[-4:])
        return [f"{name} {method} as {role}: raised {error.__class__.__name__}: {error}\n{where}"]
    finally:
        transaction.savepoint_rollback(savepoint)
    actual = status_class(response)
    want = expected(name, method, role)
    location = f" → {response['Location']}" if response.has_header("Location") else ""
    failures = []
    if actual not in want.split("|"):
        failures.append(
            f"{name} {method} {url} as {role}: expected {want}, got {actual} ({response.status_code}{location})"
        )
    failures += [f"{name} {method} {url} as {role}: {problem}" for problem in header_problems(name, response)]
    return failures


@pytest.mark.parametrize(("name", "method"), CASES, ids=[f"{name} {method}" for name, method in CASES])
def test_access(world, db, name, method):
    if name not in TABLE:
        pytest.fail(f"{name} has no row in EXPECTED (nor in ADMIN_PERMISSIONS): declare who may use it")

    failures = [failure for role in ROLES for failure in cell_failures(world, name, method, role)]

    assert failures == [], "\n".join(failures)
