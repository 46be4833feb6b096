"""Slack mrkdwn from the neutral renderers: user text cannot ping or forge links."""

from __future__ import annotations

from adapters.slack.blocks import mrkdwn


def test_broadcasts_and_links_in_user_text_are_escaped():
    text = mrkdwn("the chef <!channel> <https://evil.example|click> & co")
    assert "<!channel>" not in text and "<https://" not in text
    assert "&lt;!channel&gt;" in text and "&amp; co" in text


def test_user_and_channel_mentions_and_bold_survive():
    text = mrkdwn("**ready** <@U123ABC> asked in <#C042XYZ>")
    assert text == "*ready* <@U123ABC> asked in <#C042XYZ>"
