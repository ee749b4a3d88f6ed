"""Production mode refuses insecure settings; development starts on the embedded default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
GOOD = {
    "COLLAB_ENV": "production",
    "SECRET_KEY": "k" * 16 + "some-long-random-value-0123456789",
    "ALLOWED_HOSTS": "collab.example.com",
    "DEBUG": "0",
}


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"COLLAB_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}
    }
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CHANNEL_LAYERS['default']['BACKEND'], "
        "s.CELERY_TASK_ALWAYS_EAGER)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**clean, "DJANGO_SETTINGS_MODULE": "collab.conf.settings", **env},
        capture_output=True,
        text=True,
    )


def test_development_defaults_are_the_embedded_stack() -> None:
    result = load_settings()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "channels.layers.InMemoryChannelLayer",
        "True",
    ]


def test_redis_url_selects_the_redis_layer_and_a_real_broker() -> None:
    result = load_settings(REDIS_URL="redis://127.0.0.1:6379/11", DATABASE_URL="postgres://u@h:5432/db")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "collab.realtime.pgbackend",  # Django's PostgreSQL backend; its pool fails fast when down
        "collab.realtime.redis_layer.RedisPubSubLayer",  # channels_redis pub/sub, sends gathered
        "False",
    ]


def test_secure_production_settings_start() -> None:
    result = load_settings(**GOOD)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"DEBUG": "1"}, "DEBUG must be off"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "dev-insecure-secret-key-change-me-in-production-0123456789"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_insecure_settings(override: dict[str, str], complaint: str) -> None:
    result = load_settings(**{**GOOD, **override})
    assert result.returncode != 0
    assert "insecure production settings" in result.stderr and complaint in result.stderr
