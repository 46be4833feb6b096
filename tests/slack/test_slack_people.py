"""Who a Slack user is for the core: admin flag and user groups (their roles for role caps)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from slackkit import BOT_TOKEN, TEAM

from adapters.slack.people import People
from tests.fakes.slack_api import FakeSlackAPI


def client(slack: FakeSlackAPI) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)


async def test_user_groups_become_roles_and_are_asked_once_per_workspace(slack: FakeSlackAPI):
    slack.add_user("U1", name="alice")
    slack.add_user("U2", name="bob", is_admin=True)
    slack.add_usergroup("S1", "interns", ["U1"])
    slack.add_usergroup("S2", "video", ["U1", "U2"])
    people = People()
    alice = await people.actor(client(slack), TEAM, "U1")
    bob = await people.actor(client(slack), TEAM, "U2")
    assert alice.roles == ("S1", "S2") and not alice.is_admin
    assert bob.roles == ("S2",) and bob.is_admin
    assert len(slack.calls_to("usergroups.list")) == 1


async def test_without_the_scope_nobody_has_roles_and_nothing_breaks(slack: FakeSlackAPI):
    slack.add_user("U1", name="alice")
    slack.add_usergroup("S1", "interns", ["U1"])
    slack.fail_next("usergroups.list", "missing_scope")
    alice = await People().actor(client(slack), TEAM, "U1")
    assert alice.roles == () and alice.display_name == "alice"
