"""Project configuration. The Celery app is loaded with it, so that every process (web
workers included) sends tasks through the configured app (Django's usual Celery set-up)."""

from collab.conf.celery import app as celery_app

__all__ = ["celery_app"]
