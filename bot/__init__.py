"""ltxbot's core: the request model, pricing, budgets, the job lifecycle and the fal gateway.

It imports nothing of ours outside `bot/` and no chat platform or database driver: storage
reaches it through the Protocols in `bot.ports`, and `adapters.app` wires everything together.
"""
