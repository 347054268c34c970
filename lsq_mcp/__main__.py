from lsq_mcp.cli import main

raise SystemExit(main())
