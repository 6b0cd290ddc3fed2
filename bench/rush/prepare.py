"""Data of the deadline-rush benchmark, prepared once into a template database.

One applicant, one consortium and one draft dossier per simulated applicant, every section complete
and every required attachment present (so a submission succeeds), on a call open until tomorrow;
one signed-in session per applicant, created server-side (bench.sessions). The result is the
database `ptce_bench_rush_seed` and a JSON file (sessions, dossier ids) the Locust file reads; each
run starts from a copy of that database (`CREATE DATABASE ptce_bench TEMPLATE ptce_bench_rush_seed`).

    python -m bench.rush.prepare --editors 2400 --submitters 1400
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time

from .config import CALL_SLUG, DATA_FILE, MEDIA_ROOT, SEED_DATABASE, database_url


def _create_seed_database() -> None:
    import contextlib

    from psycopg import sql

    from bench.common import _connect_admin, _drop

    _drop(SEED_DATABASE)
    with contextlib.closing(_connect_admin()) as connection, connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SEED_DATABASE)))


def prepare(editors: int, submitters: int, seed: int) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from accounts.roles import Role, add_role
    from applications.calls import ensure_ptce_call
    from applications.models import Call, Dossier
    from applications.services import missing_items
    from bench.sessions import session_cookie
    from demo.dataset import DatasetSummary, _write_attachments, _write_dossiers, check_plan, plan_dossier

    call_command("migrate", verbosity=0, interactive=False)
    now = timezone.now()
    total = editors + submitters
    with transaction.atomic():
        call, _created = ensure_ptce_call(
            slug=CALL_SLUG,
            title="Appel de la mesure de rush",
            reference_prefix="RUSH",
            opens_at=now - dt.timedelta(days=60),
            closes_at=now + dt.timedelta(days=7),
            first_funding_year=now.year + 1,
        )
        plans = [plan_dossier(call, seed=seed, index=i + 1, tag="rush", end=now) for i in range(total)]
        for plan in plans:
            check_plan(call, plan)
        summary = DatasetSummary(call=call.slug)
        rows = _write_dossiers(call, plans, make_password(None), summary)
        _write_attachments(call, rows, summary)
        # _write_dossiers writes submitted dossiers (its purpose is history): these are drafts in
        # the last days before the deadline, not numbered yet.
        Dossier.objects.filter(call=call).update(status=Dossier.Status.DRAFT, number=None, reference="")
        Call.objects.filter(pk=call.pk).update(last_dossier_number=0)
        calibration_user = User.objects.create_user("calibration@rush.example", None)
        add_role(calibration_user, Role.APPLICANT)
    ordered = sorted(rows, key=lambda row: row[0].index)
    sample = Dossier.objects.select_related("call", "consortium").get(pk=ordered[-1][1].pk)
    if missing_items(sample):
        raise SystemExit(f"prepared dossier {sample.pk} cannot be submitted: {missing_items(sample)}")
    owners = {user.email: user for user in User.objects.filter(email__in=[plan.owner.email for plan, _ in ordered])}
    started = time.perf_counter()
    people = [{"dossier": dossier.pk, "session": session_cookie(owners[plan.owner.email])} for plan, dossier in ordered]
    print(f"{len(people)} sessions in {time.perf_counter() - started:.1f} s")
    return {
        "call": call.slug,
        "editors": people[:editors],
        "submitters": people[editors:],
        "calibration": {"session": session_cookie(calibration_user)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--editors", type=int, default=2400)
    parser.add_argument("--submitters", type=int, default=1400)
    parser.add_argument("--seed", type=int, default=2013)
    args = parser.parse_args()
    _create_seed_database()
    os.environ["DATABASE_URL"] = database_url(SEED_DATABASE)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["EMAIL_URL"] = "memorymail://"
    os.environ["MEDIA_ROOT"] = str(MEDIA_ROOT)
    os.environ.setdefault("REDIS_DB", "10")
    import django

    django.setup()
    started = time.perf_counter()
    data = prepare(args.editors, args.submitters, args.seed)
    from django.db import connections

    connections.close_all()
    DATA_FILE.parent.mkdir(parents=True, exist_ok=True)
    DATA_FILE.write_text(json.dumps(data))
    print(
        f"{SEED_DATABASE}: {len(data['editors'])} editors, {len(data['submitters'])} submitters, "
        f"in {time.perf_counter() - started:.1f} s; sessions in {DATA_FILE}"
    )


if __name__ == "__main__":
    main()
