"""Approval requests: a video an admin lets through the requester's own caps.

A request is made when a video costs more than the scope's approval threshold, or when it does
not fit the requester's caps, and the requester presses "Ask for approval". It is posted to the
scope's admin channel with Approve / Deny buttons and waits there until it is decided or
expires (24 h unless an admin set `approval_hours`).

What Approve does (the rule, documented in the README): the job's hold skips the requester's
personal caps (default, override, role), their in-flight and per-minute limits, but must still
fit the team pool when one is set. The hold is written under the requester, so the spend is
theirs in `budget`, `admin usage` and `admin export`, like any other video of theirs.

Deciding is one conditional write in storage (pending -> approved/denied/expired), so of an
Approve racing a Deny or a second Approve exactly one wins, and only the winner starts the job.
The request id is the job id (the buttons carry it, as every other job button does). The
records and the store are `bot.ports.approvals`.
"""

from __future__ import annotations

from datetime import timedelta

DEFAULT_APPROVAL_TTL = timedelta(hours=24)
