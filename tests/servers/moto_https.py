"""moto over HTTPS with a certificate made for the run (see moto_server.py)."""

from moto_server import MotoHttpsServer

SERVER = MotoHttpsServer
