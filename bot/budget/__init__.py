"""Money rules: which caps apply, admission, periods, approvals, and the sentences users read."""
