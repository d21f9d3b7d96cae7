"""Dashboard, health check, language and accessibility settings, audit log and mail outbox."""
