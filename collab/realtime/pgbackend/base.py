"""Django's PostgreSQL DatabaseWrapper, building its connection pool from FailFastPool."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base as postgresql

from collab.realtime.pgbackend.pool import FailFastPool


class DatabaseWrapper(postgresql.DatabaseWrapper):
    @property
    def pool(self) -> Any:
        # Django 5.2's property with our pool class: Django offers no hook for it, and the
        # pool's options (settings: DATABASES OPTIONS "pool") are passed through unchanged.
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options:
            return None
        # Django's class-level registry of pools, one per alias (not in django-stubs).
        pools: dict[str, Any] = self._connection_pools  # type: ignore[attr-defined]
        if self.alias not in pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            if pool_options is True:
                pool_options = {}
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # Django sets the real mode after checkout
            enable_checks = self.settings_dict["CONN_HEALTH_CHECKS"]
            pool = FailFastPool(
                kwargs=connect_kwargs,
                open=False,  # opened on first use, not at start-up
                configure=self._configure_connection,  # type: ignore[attr-defined]
                check=FailFastPool.check_connection if enable_checks else None,
                **pool_options,
            )
            # setdefault: threads racing at start-up may build several; the first one wins.
            pools.setdefault(self.alias, pool)
        return pools[self.alias]
