"""The tool `get_opportunity_activities`: its arguments and calls (`tool`), its structured result and
condensing (`result`), and its text (`timeline`)."""
