"""Less memory per websocket: protocol options on the class, upgrade requests let go."""

from __future__ import annotations

from types import SimpleNamespace

from daphne.ws_protocol import WebSocketFactory
from twisted.internet.testing import StringTransport

from collab.realtime.daphne.lean import forget_if_upgraded, options_on_the_class


def test_protocol_instances_read_the_options_from_their_class() -> None:
    factory = WebSocketFactory(None, server="test")
    factory.setProtocolOptions(autoPingTimeout=7, openHandshakeTimeout=3, allowNullOrigin=True)
    options_on_the_class(factory)
    protocol = factory.buildProtocol(None)
    protocol.transport = StringTransport()
    protocol.client_addr = protocol.path = None  # read by daphne's repr, which autobahn logs
    protocol._connectionMade()  # autobahn's: copies every option the instance lacks
    options = type(protocol).CONFIG_ATTRS
    assert len(options) > 20
    assert not set(options) & set(vars(protocol)), "options copied into the instance"
    assert all(getattr(protocol, name) == getattr(factory, name) for name in options)
    assert protocol.autoPingTimeout == 7 and protocol.openHandshakeTimeout == 3
    # A function option stays a plain function (not a method of the protocol).
    assert protocol.perMessageCompressionAccept is factory.perMessageCompressionAccept
    assert protocol.perMessageCompressionAccept([]) is None
    # Options set again later apply to connections made after that, as autobahn's copy did.
    factory.setProtocolOptions(autoPingTimeout=9)
    options_on_the_class(factory)
    assert factory.buildProtocol(None).autoPingTimeout == 9 and protocol.autoPingTimeout == 7


def test_only_a_request_handed_to_a_websocket_is_forgotten_by_its_channel() -> None:
    channel = SimpleNamespace(requests=[])
    upgraded = SimpleNamespace(transport=None, channel=channel)
    plain = SimpleNamespace(transport=StringTransport(), channel=channel)
    channel.requests += [upgraded, plain]
    forget_if_upgraded(upgraded)
    forget_if_upgraded(plain)
    assert channel.requests == [plain]
    forget_if_upgraded(upgraded)  # twice is harmless
    assert channel.requests == [plain]
