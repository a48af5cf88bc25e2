"""The HTTP side of the gateway: the app and its one bootstrap (`app.wire`), dependencies,
problems, OpenAPI and docs, the console, sessions, probes, rate limits.
"""
