"""Azurite over HTTPS with OAuth bearer tokens accepted (see azurite.py)."""

from azurite import AzuriteHttpsServer

SERVER = AzuriteHttpsServer
