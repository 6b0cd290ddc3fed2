"""`RankingStamp.labels`: bumped when a pole whose dossier is in a call is renamed or changes
region or territorial priority. The ranking does not move (its version stays), but the selection
console keeps per-stamp results that show those labels (awards.console)."""

from django.db import migrations, models

CREATE = """
CREATE FUNCTION reviews_ranking_on_pole() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO reviews_rankingstamp (call_id, version, txid, labels)
    SELECT DISTINCT d.call_id, 0, 0, 1 FROM applications_dossier d WHERE d.consortium_id = NEW.id
    ON CONFLICT (call_id) DO UPDATE SET labels = reviews_rankingstamp.labels + 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER reviews_ranking_pole_relabelled AFTER UPDATE ON applications_consortium FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.region IS DISTINCT FROM NEW.region
          OR OLD.territory_priority IS DISTINCT FROM NEW.territory_priority)
    EXECUTE FUNCTION reviews_ranking_on_pole();
"""

DROP = """
DROP TRIGGER IF EXISTS reviews_ranking_pole_relabelled ON applications_consortium;
DROP FUNCTION IF EXISTS reviews_ranking_on_pole();
"""


class Migration(migrations.Migration):
    dependencies = [("reviews", "0005_ranked_dossier_requested")]

    operations = [
        migrations.AddField(model_name="rankingstamp", name="labels", field=models.BigIntegerField(default=0, db_default=0)),
        migrations.RunSQL(CREATE, DROP),
    ]
