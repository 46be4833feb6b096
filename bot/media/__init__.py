"""Images and videos: reference-sheet intake and sanitising (Pillow), video probing (PyAV)."""
