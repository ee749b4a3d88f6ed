"""Django's PostgreSQL backend with a connection pool that fails fast while the database is down.

Selected by collab/settings.py (ENGINE "collab.pgbackend") whenever the per-process pool is on;
see collab/pgbackend/pool.py for what changes and why.
"""
