"""gridledger package."""
