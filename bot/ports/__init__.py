"""The core's interfaces to the outside world (storage, fal, the chat adapters) and their records.

One module per interface, each with the records that cross it: `ledger` (Ledger), `jobs` (JobStore),
`policy` (PolicyStore), `approvals` (ApprovalStore), `keyvalue` (KeyValueStore), `leases`
(JobLeases: which replica drives which job), `signals` (JobSignals: waking a job's driver),
`saved_sheets` (SavedSheetStore), `fal` (Gateway),
`billing` (FalBilling: fal's records of its bill), `chat` (Poster), `observer` (JobObserver: who
watches job transitions and money, the metrics) and `clock` (Clock). Storage implements the stores,
`bot.fal.gateway` the Gateway, `bot.fal.billing_api` FalBilling, each adapter its Poster. They
import only the job record, the events, the model and money: no rule of `bot.budget` or `bot.jobs`
lives here.
"""

from bot.ports.approvals import ApprovalRequest, ApprovalState, ApprovalStore
from bot.ports.billing import BilledRequest, FalBilling, UnitPrice, UsageTotal
from bot.ports.chat import Delivery, DeliveryAttempt, DeliveryRoute, Poster, TakesPoster
from bot.ports.clock import Clock
from bot.ports.fal import FalResult, FalStatus, Gateway
from bot.ports.jobs import Forgetting, Forgotten, JobStore
from bot.ports.keyvalue import KeyValueStore
from bot.ports.leases import JobLeases
from bot.ports.ledger import (
    Entry,
    EntryKind,
    HoldOutcome,
    Ledger,
    Limit,
    Throttle,
    Throttled,
    Usage,
)
from bot.ports.observer import JobObserver
from bot.ports.policy import (
    AuditEntry,
    Cap,
    CapKind,
    ChannelAccess,
    Period,
    PolicyStore,
    Rule,
    StoredPolicy,
)
from bot.ports.saved_sheets import SavedSheet, SavedSheetStore
from bot.ports.signals import JobSignals, OnSignal

__all__ = [
    "ApprovalRequest",
    "ApprovalState",
    "ApprovalStore",
    "AuditEntry",
    "BilledRequest",
    "Cap",
    "CapKind",
    "ChannelAccess",
    "Clock",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryRoute",
    "Entry",
    "EntryKind",
    "FalBilling",
    "FalResult",
    "FalStatus",
    "Forgetting",
    "Forgotten",
    "Gateway",
    "HoldOutcome",
    "JobLeases",
    "JobObserver",
    "JobSignals",
    "JobStore",
    "KeyValueStore",
    "Ledger",
    "Limit",
    "OnSignal",
    "Period",
    "PolicyStore",
    "Poster",
    "Rule",
    "SavedSheet",
    "SavedSheetStore",
    "StoredPolicy",
    "TakesPoster",
    "Throttle",
    "Throttled",
    "UnitPrice",
    "Usage",
    "UsageTotal",
]
