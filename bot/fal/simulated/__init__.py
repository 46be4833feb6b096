"""A faithful local fal: queue, storage and webhooks over TLS, rendering real MP4s.

async with SimulatedFal(generation_seconds=0.1) as fal:
    undo = point_fal_client_at(fal, fal.ca_file)   # bot.fal.simulated.client_setup
    ...
"""

from bot.fal.simulated.faults import Faults
from bot.fal.simulated.jobs import Submission
from bot.fal.simulated.options import SimulatedFalOptions
from bot.fal.simulated.server import SimulatedFal
from bot.fal.simulated.webhooks import WebhookDelivery

__all__ = ["Faults", "SimulatedFal", "SimulatedFalOptions", "Submission", "WebhookDelivery"]
