"""ltxbot core: request model, pricing, budgets, job lifecycle and the fal gateway.

Nothing in this package imports a chat platform or a database driver; `bot.app` and
`bot.cli` are the only modules that wire adapters and storage in, by name.
"""
