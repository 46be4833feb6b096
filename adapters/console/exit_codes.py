"""The exit codes of `ltxbot`: the user can fix it, a setting is wrong, Ctrl-C (as shells do)."""

EXIT_USER, EXIT_CONFIG, EXIT_INTERRUPTED = 1, 2, 130
