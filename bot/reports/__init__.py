"""Reports over the ledger: spend per user, the usage chart, the CSV export."""
