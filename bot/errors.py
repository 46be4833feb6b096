"""A small rooted error tree: every exception class of the core is here, under `LtxbotError`.

`UserError`s carry a sentence the person can act on and are shown as they are.
`GenerationFailed` (and under it `FalUnavailable`) is fal refusing or failing a job. A few are
signals handled where they are raised, never shown: `StreamBusy` (poll instead) and
`WebhookRefused` (answer 401). Everything else is internal: the person sees a short apology
naming the job id, the log gets the details.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.ports.ledger import Limit  # the record alone: errors sit below the ports


class LtxbotError(Exception):
    """Root of every error ltxbot raises on purpose."""


class UserError(LtxbotError):
    """Something the user can fix; `str(error)` is safe to show them."""


class InvalidRequest(UserError):
    """An option is missing, unknown or out of range."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class InvalidSheet(UserError):
    """The reference sheet is not an image we can use."""


class BudgetExceeded(UserError):
    """The request does not fit one of the caps that apply."""


class NotAllowed(UserError):
    """The actor may not do this (not the requester, not an admin, channel not allowed)."""


class NotFound(UserError):
    """No such job (or not one the actor may see)."""


class CannotDeliver(UserError):
    """The job's result could not reach the requester where they asked (the bot may not post
    there); refused before anything is held."""


class Undeliverable(LtxbotError):
    """No way left to get a finished video to its requester (the thread, a direct message and
    a link all refused for good); `reason` says what refused, in a sentence for them."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


DATABASE_AWAY = (
    "The bot cannot reach its database right now, so nothing was done and nothing was "
    "charged. Please try again in a minute."
)


class StorageUnavailable(UserError):
    """The database cannot be reached (refused, dropped, timed out): storage raises it, so
    a command answers with `DATABASE_AWAY` instead of an apology, and a job's driver leaves
    the job to resume from its stored state once the database is back."""

    def __init__(self, detail: str = "") -> None:
        self.detail = detail  # for the log; never shown (it may name hosts)
        super().__init__(DATABASE_AWAY)


class BillingUnavailable(UserError):
    """fal's platform API (its billing records) refused us or could not be reached."""


class GenerationFailed(LtxbotError):
    """fal refused or failed the job; `reason` is safe to show, `retryable` guides the runner."""

    def __init__(self, reason: str, *, retryable: bool = False, detail: str | None = None):
        self.reason = reason
        self.retryable = retryable
        self.detail = detail
        super().__init__(reason)


class ConfigurationError(LtxbotError):
    """A setting is missing or wrong; the message names it and never shows a secret."""


class IllegalTransition(LtxbotError):
    """A job was asked to move between states that are not connected: a bug."""


class FalUnavailable(GenerationFailed):
    """fal is busy or unreachable (429, 5xx, connection trouble): worth asking again later."""

    def __init__(self, reason: str, *, retry_after: float | None = None, detail: str | None = None):
        super().__init__(reason, retryable=True, detail=detail)
        self.retry_after = retry_after


class StreamBroken(FalUnavailable):
    """fal's status stream ended before COMPLETED. `retry`: reconnecting may help (a dropped
    connection, 429/5xx); False when this fal does not stream this request (404, not SSE)."""

    def __init__(self, reason: str, *, retry: bool = True, retry_after: float | None = None):
        super().__init__(reason, retry_after=retry_after)
        self.retry = retry


class StreamBusy(LtxbotError):
    """Every status stream slot of the gateway is taken; nothing was sent. Not a failure of
    fal or of the job (so no `GenerationFailed`): the follower polls this time instead."""


class SubmitOutcomeUnknown(GenerationFailed):
    """The submit was sent but its answer was lost: fal may or may not have queued it."""


class ResultExpired(GenerationFailed):
    """fal no longer keeps the result (1 hour, or 6 minutes for results of 10 KB or more)."""


class LostJob(LtxbotError):
    """The job vanished from the store, or the store kept refusing the swap."""


class Superseded(LostJob):
    """The job left SUCCEEDED while its delivery ran (another driver delivered or failed it)."""


class ConcurrentChange(LtxbotError):
    """A record changed while a transaction rewrote it: nothing was written, try again."""


class JwksUnavailable(LtxbotError):
    """fal's key set could not be fetched (and none is cached)."""


class WebhookRefused(LtxbotError):
    """A fal webhook delivery is not (validly) signed; `str()` says why, for the log."""


class LimitReached(BudgetExceeded):
    """Too many videos in flight or per minute: refused like a cap (the job is rejected)."""


class CapReached(BudgetExceeded):
    """A cap refused the hold; `limit` says which (an admin's approval may get past a
    personal one, never past the team pool)."""

    def __init__(self, text: str, limit: Limit):
        super().__init__(text)
        self.limit = limit
