"""One package per chat platform: translate events into commands, render replies."""
