"""ASGI entry point: `daphne asgi:application` starts one worker."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "collab.conf.settings")
django.setup()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

from collab.conf.runtime import build_worker_runtime  # noqa: E402
from collab.conf.ws_routing import websocket_urlpatterns  # noqa: E402
from collab.realtime.daphne.backlog import raise_listen_backlog  # noqa: E402
from collab.realtime.daphne.backpressure import bound_websocket_output  # noqa: E402
from collab.realtime.daphne.close import pass_close_reasons  # noqa: E402
from collab.realtime.daphne.direct_frames import offer_direct_frames  # noqa: E402
from collab.realtime.daphne.handshake import bound_daphne_handshakes  # noqa: E402
from collab.realtime.daphne.lean import release_upgrade_requests, share_protocol_options  # noqa: E402
from collab.realtime.daphne.limits import raise_daphne_message_limit  # noqa: E402
from collab.realtime.daphne.shutdown import drain_on_shutdown, shut_down_gracefully  # noqa: E402
from collab.realtime.daphne.unmask import unmask_small_frames_in_python  # noqa: E402
from collab.realtime.daphne.writes import plain_autobahn_debug_arguments, write_at_once  # noqa: E402
from collab.realtime.runtime import WorkerLifecycle, stop_runtime  # noqa: E402
from collab.realtime.ws_admission import WebsocketAdmission  # noqa: E402
from collab.realtime.ws_auth import WebsocketAuthMiddleware  # noqa: E402
from collab.realtime.ws_guard import WebsocketGuard  # noqa: E402

raise_daphne_message_limit()
share_protocol_options()  # after the message limit: it wraps setProtocolOptions too
release_upgrade_requests()
raise_listen_backlog()
bound_daphne_handshakes()
bound_websocket_output()
pass_close_reasons()
shut_down_gracefully()
write_at_once()
offer_direct_frames()
plain_autobahn_debug_arguments()
unmask_small_frames_in_python()
drain_on_shutdown(stop_runtime)  # the rooms write what they hold, then the rest stops

# The worker's runtime (rooms, presence, watches) starts before the first connection is served.
application = WorkerLifecycle(
    ProtocolTypeRouter(
        {
            "http": get_asgi_application(),
            # The guard outermost: whatever fails below it closes the socket with 4500, visibly.
            "websocket": WebsocketGuard(
                WebsocketAdmission(WebsocketAuthMiddleware(URLRouter(websocket_urlpatterns)))
            ),
        }
    ),
    build_worker_runtime,
)
