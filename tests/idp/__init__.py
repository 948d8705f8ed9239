"""Real identity providers the single sign-on tests run against, each its own small project."""
