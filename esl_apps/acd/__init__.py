"""ACD: queues, agents and tiers kept in Hotline's database and pushed to
mod_callcenter at run time; agent state changes logged; a reconciler that heals
every difference between the two views (see service.AcdService)."""
