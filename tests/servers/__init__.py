"""Test HTTP servers on 127.0.0.1: nginx (the real thing) and an aiohttp server that injects faults."""
