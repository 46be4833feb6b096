"""fal's platform API client for `admin reconcile`, opened by the composition root when an
admin key is set (on the in-process simulated fal when that is the fal in use)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from bot.ports import FalBilling
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.fal.simulated import SimulatedFal


def open_billing(
    settings: Settings, stack: AsyncExitStack, simulated: SimulatedFal | None
) -> FalBilling | None:
    """None without LTXBOT_FAL_ADMIN_KEY: the command then says what it needs."""
    key = settings.fal_admin_key.get_secret_value() if settings.fal_admin_key else ""
    if not key:
        return None
    from bot.fal.billing_api import FalBillingApi

    if simulated is not None:
        from bot.fal.simulated.platform_api import api_url

        verify = simulated.ssl_context() if simulated.tls else True
        billing = FalBillingApi(api_url=api_url(simulated), admin_key=key, verify=verify)
    else:
        billing = FalBillingApi(api_url=settings.fal_api_url, admin_key=key)
    stack.push_async_callback(billing.aclose)
    return billing
