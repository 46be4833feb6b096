"""A faithful local fal: queue, storage and webhooks over TLS, rendering real MP4s.

async with SimulatedFal(generation_seconds=0.1) as fal:
    undo = point_fal_client_at(fal, fal.ca_file)   # bot.simulated_fal.client_setup
    ...
"""

from bot.simulated_fal.faults import Faults
from bot.simulated_fal.jobs import Submission
from bot.simulated_fal.server import SimulatedFal
from bot.simulated_fal.webhooks import WebhookDelivery, verify_webhook

__all__ = ["Faults", "SimulatedFal", "Submission", "WebhookDelivery", "verify_webhook"]
