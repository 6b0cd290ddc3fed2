import datetime as dt

from django.core.management import call_command

from accounts.models import User
from applications.models import Call, Consortium, Dossier
from conftest import sign_in
from demo.data import demo_siret, next_deadline


def test_load_demo_is_idempotent_and_prints_one_login_per_role(db, media, capsys):
    call_command("load_demo")
    call_command("load_demo")

    output = capsys.readouterr().out
    assert output.count("porteur@demo.ptce.fr") == 2
    assert "programme@demo.ptce.fr" in output
    assert output.count("demande d'activer la double authentification") == 2
    assert User.objects.filter(email__endswith="@demo.ptce.fr").count() == 12
    assert sorted(Call.objects.values_list("slug", flat=True)) == ["ptce-2013", "ptce-demo"]
    assert Consortium.objects.filter(name="Cité Phares").count() == 1
    assert Dossier.objects.filter(call__slug="ptce-demo").count() == 1
    assert Dossier.objects.filter(call__slug="ptce-2013", current_submission__isnull=False).count() == 60


def test_demo_open_call_closes_next_30_october():
    # 2027: summer time ends on 31 October at 03:00, so that midnight is still CEST.
    assert next_deadline(dt.date(2026, 11, 25)).isoformat() == "2027-10-31T00:00:00+02:00"
    assert next_deadline(dt.date(2026, 10, 30)).isoformat() == "2026-10-31T00:00:00+01:00"


def test_demo_sirets_pass_the_check():
    from applications.sirets import validate_siret

    validate_siret(demo_siret("1417"))


def test_load_ptce_2013_creates_the_call_as_the_seed_states(db, capsys):
    call_command("load_ptce_2013")
    call_command("load_ptce_2013")

    call = Call.objects.get(slug="ptce-2013")
    assert call.opens_at == dt.datetime(2013, 7, 14, 22, 0, tzinfo=dt.UTC)
    assert call.closes_at == dt.datetime(2013, 10, 30, 23, 0, tzinfo=dt.UTC)
    assert (call.envelope, call.target_laureates, call.funding_years) == (3_000_000, 20, 3)
    assert call.attachment_types.filter(required=True).count() == 4
    assert call.criteria.count() == 6
    assert call.criteria.filter(allows_not_applicable=True).count() == 1
    assert "déjà présent" in capsys.readouterr().out


def test_demo_2013_call_shows_exact_selection_beating_rank_order(client, db, media):
    call_command("load_demo")
    sign_in(client, User.objects.get(email="programme@demo.ptce.fr"))

    page = client.get("/programme/appels/ptce-2013/selection/").content.decode()

    assert "La sélection exacte obtient" in page
