"""Human handoff: when to step aside (triggers), what the agent needs to know (summary), the desks agents use
(the Desk protocol) and the state machine that moves a conversation bot → waiting_agent → agent → bot."""
