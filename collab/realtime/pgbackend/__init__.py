"""Django's PostgreSQL backend with a connection pool that fails fast while the database is down.

Selected by collab/conf/settings.py (ENGINE "collab.realtime.pgbackend") whenever the per-process pool is on;
see collab/realtime/pgbackend/pool.py for what changes and why.
"""
