from django.db import migrations

# Defence in depth for PRODUCT.md rule 6: whatever writes an award (the service, a shell, raw
# SQL), the call row is locked and the call's total checked against its envelope. Locking the
# call first serialises concurrent writers, and the sum then sees every committed award.
CREATE = """
CREATE FUNCTION awards_check_envelope() RETURNS trigger AS $$
DECLARE
    envelope bigint;
    allocated bigint;
BEGIN
    SELECT c.envelope INTO envelope FROM applications_call c WHERE c.id = NEW.call_id FOR UPDATE;
    SELECT COALESCE(SUM(a.total), 0) INTO allocated FROM awards_award a WHERE a.call_id = NEW.call_id;
    IF allocated > envelope THEN
        RAISE EXCEPTION 'envelope exceeded for call %: % > %', NEW.call_id, allocated, envelope
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER awards_award_envelope
AFTER INSERT OR UPDATE OF total, call_id ON awards_award
FOR EACH ROW EXECUTE FUNCTION awards_check_envelope();
"""

DROP = """
DROP TRIGGER IF EXISTS awards_award_envelope ON awards_award;
DROP FUNCTION IF EXISTS awards_check_envelope();
"""


class Migration(migrations.Migration):
    dependencies = [("awards", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
