"""People, login, sessions, tokens, parents and consents, bulk import."""
