"""The exit codes of `ltxbot`, one rule for every command.

0: done. 1: refused or failed (bad input, a cap, no such job, a bad setting, fal's failure).
2: the command line itself is wrong (argparse's usage errors). 130: Ctrl-C, as shells do.
"""

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
