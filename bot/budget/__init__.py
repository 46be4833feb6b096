"""Money rules: which caps apply, admission, admin changes, periods, approvals, their sentences."""
