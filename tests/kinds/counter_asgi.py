"""`daphne tests.kinds.counter_asgi:application`: the project with the counter kind registered."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.conf.settings")
django.setup()

from collab.engine.kinds import room_kinds  # noqa: E402
from tests.kinds.counter import CounterKind  # noqa: E402

room_kinds.register(CounterKind())

from asgi import application  # noqa: E402

__all__ = ["application"]
