"""The web interface: server-rendered pages for the unit, the pharmacy and auditors."""
