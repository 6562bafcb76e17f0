"""Where orders and everything the rules produce are kept: SQLModel tables over SQLite
(default) or PostgreSQL (``DATABASE_URL``)."""
