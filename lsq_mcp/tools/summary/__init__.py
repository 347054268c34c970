"""The tool `summarize_opportunity`: its arguments and reading (`tool`), its structured result and
pure condensing (`result`), and its digest text (`digest`)."""
