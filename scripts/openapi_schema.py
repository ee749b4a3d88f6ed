"""Print the REST API's OpenAPI schema (what /api/openapi.json serves) as sorted JSON.

The front end's typed API client is generated from it (frontend/src/api/schema.d.ts);
scripts/check_api_types fails when the committed types no longer match the server.
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.conf.settings")


def main() -> None:
    import django

    django.setup()
    from collab.conf.api import api

    # Through JSON once first: response codes are int keys, which sort_keys cannot mix with str.
    schema = json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/"), default=str))
    json.dump(schema, sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
