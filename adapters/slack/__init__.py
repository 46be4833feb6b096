"""Slack: `/ltx` with a form, a message shortcut, @mentions, a Workflow Builder step, and the
video posted into the status message's thread. See adapter.py for Socket Mode vs HTTP mode."""

from adapters.slack.adapter import SlackAdapter
from adapters.slack.poster import SlackPoster

__all__ = ["SlackAdapter", "SlackPoster"]
