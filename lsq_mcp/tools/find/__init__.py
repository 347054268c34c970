"""The tool `find_opportunities`: its arguments and calls (`tool`), reading a query (`query`), the
searches for leads (`search`), ranking (`rank`), and its structured result and text (`result`)."""
