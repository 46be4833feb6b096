"""Talking to fal: the gateway (fal_client's one user), upload, status stream, results, download."""
