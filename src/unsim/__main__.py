from unsim.cli import main

raise SystemExit(main())
