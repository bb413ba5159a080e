"""Users, groups, tokens, login, and who may see and do what."""
