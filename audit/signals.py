"""Links are written in the same transaction as the rows they cover.

The audit app observes the other apps' writes, as simple-history does, and is never called
back: the dependency points from audit to them only.
"""

from __future__ import annotations

from .services import link_rows


def record_historical_link(sender, history_instance, using=None, **kwargs) -> None:
    """Receiver of simple-history's `post_create_historical_record`: one link per historical row."""
    link_rows([history_instance], using=using)


def record_created_link(sender, instance, created, raw=False, using=None, **kwargs) -> None:
    """Receiver of `post_save` for the append-only record tables (chain.RECORD_TABLES)."""
    if created and not raw:
        link_rows([instance], using=using)
