"""A job's life: its record and states, the supervisor, submit, follow, what follows fal."""
