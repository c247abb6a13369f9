"""The served SOC Copilot app: the three views, a status area and probes."""
