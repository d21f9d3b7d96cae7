"""Cross-domain infrastructure: database base, storage, permissions, i18n, signals, errors, audit, mail."""
