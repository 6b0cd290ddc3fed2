"""Bump the call's ranking stamp whenever something the ranking reads changes.

`reviews_bump_ranking(call_id)` adds one to `reviews_rankingstamp.version` once per transaction
and call (a transaction-local setting remembers that it did, until reviews.ranking_store.store
computes the ranking in that same transaction and forgets it), creating the row on first use. The
row stays locked until the transaction ends, so a reader that sees the new version also sees the
change (both become visible at the same commit). Each trigger below finds the call of its row
and only fires for changes that move the ranking:

- applications_dossier: a dossier created or deleted, its status, version that counts or call;
- applications_call: the disagreement threshold;
- reviews_assignment: created, deleted or moved (the "assigned" column);
- reviews_review: created, deleted, or changed while submitted or on its way in or out of it;
- reviews_score: changed on a review that is submitted (drafts do not count);
- reviews_criterion: created, deleted, its name, threshold or call.

The triggers run at once, not at commit: they see the state of the row they fire on, and every
lock of the service that wrote it is taken before this one, in the same order as ever.
"""

from django.db import migrations

RANKED_REVIEW = "'submitted'"

CREATE = f"""
CREATE FUNCTION reviews_bump_ranking(target_call bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    memo text := 'ptce_ranking.call_' || target_call;
BEGIN
    IF target_call IS NULL OR current_setting(memo, true) = '1' THEN
        RETURN;
    END IF;
    INSERT INTO reviews_rankingstamp (call_id, version, txid) VALUES (target_call, 1, txid_current())
    ON CONFLICT (call_id) DO UPDATE SET version = reviews_rankingstamp.version + 1, txid = EXCLUDED.txid;
    PERFORM set_config(memo, '1', true);
END
$$;

-- One function for the tables whose rows lead to their call by one column, named by the
-- trigger's argument: the call itself ('id'), dossiers and criteria ('call_id'), assignments
-- ('dossier_id'), reviews ('assignment_id').
CREATE FUNCTION reviews_ranking_call_of(link text, target bigint) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN link IN ('id', 'call_id') THEN target
        WHEN link = 'dossier_id' THEN (SELECT call_id FROM applications_dossier WHERE id = target)
        WHEN link = 'assignment_id' THEN (
            SELECT d.call_id FROM reviews_assignment a JOIN applications_dossier d ON d.id = a.dossier_id
            WHERE a.id = target)
    END
$$;

CREATE FUNCTION reviews_ranking_on_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    link text := TG_ARGV[0];
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM reviews_bump_ranking(reviews_ranking_call_of(link, (to_jsonb(OLD) ->> link)::bigint));
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM reviews_bump_ranking(reviews_ranking_call_of(link, (to_jsonb(NEW) ->> link)::bigint));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER reviews_ranking_dossier_changed AFTER INSERT OR DELETE ON applications_dossier
    FOR EACH ROW EXECUTE FUNCTION reviews_ranking_on_row('call_id');
CREATE TRIGGER reviews_ranking_dossier_moved AFTER UPDATE ON applications_dossier FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.current_submission_id IS DISTINCT FROM NEW.current_submission_id
          OR OLD.call_id IS DISTINCT FROM NEW.call_id)
    EXECUTE FUNCTION reviews_ranking_on_row('call_id');

CREATE TRIGGER reviews_ranking_call_threshold AFTER UPDATE ON applications_call FOR EACH ROW
    WHEN (OLD.disagreement_threshold IS DISTINCT FROM NEW.disagreement_threshold)
    EXECUTE FUNCTION reviews_ranking_on_row('id');

CREATE TRIGGER reviews_ranking_assignment_changed AFTER INSERT OR DELETE ON reviews_assignment
    FOR EACH ROW EXECUTE FUNCTION reviews_ranking_on_row('dossier_id');
CREATE TRIGGER reviews_ranking_assignment_moved AFTER UPDATE ON reviews_assignment FOR EACH ROW
    WHEN (OLD.dossier_id IS DISTINCT FROM NEW.dossier_id)
    EXECUTE FUNCTION reviews_ranking_on_row('dossier_id');

CREATE TRIGGER reviews_ranking_review_changed AFTER INSERT OR DELETE ON reviews_review
    FOR EACH ROW EXECUTE FUNCTION reviews_ranking_on_row('assignment_id');
CREATE TRIGGER reviews_ranking_review_scored AFTER UPDATE ON reviews_review FOR EACH ROW
    WHEN ((OLD.status = {RANKED_REVIEW} OR NEW.status = {RANKED_REVIEW})
          AND (OLD.status IS DISTINCT FROM NEW.status
               OR OLD.weighted_total IS DISTINCT FROM NEW.weighted_total
               OR OLD.assignment_id IS DISTINCT FROM NEW.assignment_id))
    EXECUTE FUNCTION reviews_ranking_on_row('assignment_id');

CREATE FUNCTION reviews_ranking_on_score() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_review bigint := CASE WHEN TG_OP = 'DELETE' THEN OLD.review_id ELSE NEW.review_id END;
BEGIN
    PERFORM reviews_bump_ranking(reviews_ranking_call_of('assignment_id', r.assignment_id))
        FROM reviews_review r WHERE r.id = row_review AND r.status = {RANKED_REVIEW};
    RETURN NULL;
END
$$;
CREATE TRIGGER reviews_ranking_score_changed AFTER INSERT OR DELETE ON reviews_score
    FOR EACH ROW EXECUTE FUNCTION reviews_ranking_on_score();
CREATE TRIGGER reviews_ranking_score_moved AFTER UPDATE ON reviews_score FOR EACH ROW
    WHEN (OLD.value IS DISTINCT FROM NEW.value OR OLD.criterion_id IS DISTINCT FROM NEW.criterion_id
          OR OLD.review_id IS DISTINCT FROM NEW.review_id)
    EXECUTE FUNCTION reviews_ranking_on_score();

CREATE TRIGGER reviews_ranking_criterion_changed AFTER INSERT OR DELETE ON reviews_criterion
    FOR EACH ROW EXECUTE FUNCTION reviews_ranking_on_row('call_id');
CREATE TRIGGER reviews_ranking_criterion_moved AFTER UPDATE ON reviews_criterion FOR EACH ROW
    WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.eliminatory_below IS DISTINCT FROM NEW.eliminatory_below
          OR OLD.call_id IS DISTINCT FROM NEW.call_id)
    EXECUTE FUNCTION reviews_ranking_on_row('call_id');
"""

DROP = """
DROP TRIGGER IF EXISTS reviews_ranking_dossier_changed ON applications_dossier;
DROP TRIGGER IF EXISTS reviews_ranking_dossier_moved ON applications_dossier;
DROP TRIGGER IF EXISTS reviews_ranking_call_threshold ON applications_call;
DROP TRIGGER IF EXISTS reviews_ranking_assignment_changed ON reviews_assignment;
DROP TRIGGER IF EXISTS reviews_ranking_assignment_moved ON reviews_assignment;
DROP TRIGGER IF EXISTS reviews_ranking_review_changed ON reviews_review;
DROP TRIGGER IF EXISTS reviews_ranking_review_scored ON reviews_review;
DROP TRIGGER IF EXISTS reviews_ranking_score_changed ON reviews_score;
DROP TRIGGER IF EXISTS reviews_ranking_score_moved ON reviews_score;
DROP TRIGGER IF EXISTS reviews_ranking_criterion_changed ON reviews_criterion;
DROP TRIGGER IF EXISTS reviews_ranking_criterion_moved ON reviews_criterion;
DROP FUNCTION IF EXISTS reviews_ranking_on_row(), reviews_ranking_on_score(), reviews_ranking_call_of(text, bigint),
    reviews_bump_ranking(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("reviews", "0003_ranking_store")]

    operations = [migrations.RunSQL(CREATE, DROP)]
