"""Chain each link at commit time, in commit order.

A deferred constraint trigger runs when the writing transaction commits: it takes one advisory
transaction lock (held only for the few statements of the commit), reads the chain's head and
sets the link's sequence and entry_hash = SHA-256(previous entry_hash || row_hash), the formula of
audit.chain.entry_hash. Chaining during the transaction instead would hold one lock across every
transaction that writes history and could deadlock with the services' row locks.
"""

from django.db import migrations

CHAIN_LOCK = 2013_0007  # pg_advisory_xact_lock key of the history chain

CREATE = f"""
CREATE FUNCTION audit_chain_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous_sequence bigint;
    previous_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK});
    SELECT sequence, entry_hash INTO previous_sequence, previous_hash
        FROM audit_chainlink WHERE sequence IS NOT NULL ORDER BY sequence DESC LIMIT 1;
    UPDATE audit_chainlink SET
        sequence = COALESCE(previous_sequence, 0) + 1,
        entry_hash = encode(sha256(convert_to(COALESCE(previous_hash, repeat('0', 64)) || row_hash, 'UTF8')), 'hex'),
        chained_at = clock_timestamp()
    WHERE id = NEW.id AND sequence IS NULL;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER audit_chainlink_chain AFTER INSERT ON audit_chainlink
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_chain_link();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_chainlink_chain ON audit_chainlink;
DROP FUNCTION IF EXISTS audit_chain_link();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
